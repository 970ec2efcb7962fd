package io.lambdalake.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LakeConfigLoaderTest {
  /** conf/ of this checkout, as the module's tests run from common/. */
  private static final String CONF_DIRECTORY = Path.of("..", "conf").toString();

  @Test
  void pinsEveryDefault() {
    LakeConfig config = load(Map.of(), Map.of());

    assertThat(config.localDirectory())
        .isEqualTo(Path.of("..").toAbsolutePath().normalize().resolve(".lake-local"));
    assertThat(config.kafka()).isEqualTo(new KafkaConfig("127.0.0.1:19092", Map.of()));
    assertThat(config.s3())
        .isEqualTo(
            new S3Config(
                Optional.of("http://127.0.0.1:19000"),
                "us-east-1",
                Optional.of("lake-access"),
                Optional.of("lake-secret-local"),
                true,
                "lake"));
    assertThat(config.storage())
        .isEqualTo(new StorageConfig("s3a://lake/warehouse", "s3a://lake/checkpoints"));
    assertThat(config.topics())
        .isEqualTo(
            new TopicsConfig(
                "events.",
                "events.other",
                "events.quarantine",
                "cdc.maxwell.",
                "cdc.mongo.",
                4,
                1));
    assertThat(config.trino())
        .isEqualTo(new TrinoConfig("jdbc:trino://127.0.0.1:18080", "lake", "lake"));
    assertThat(config.mariaDb())
        .isEqualTo(new MariaDbConfig("127.0.0.1", 13306, "lake", "lake-local", 101));
    assertThat(config.maxwell())
        .isEqualTo(new MaxwellConfig("maxwell", "maxwell-local", 6379, "lambda-lake", "maxwell"));
    assertThat(config.spark()).isEqualTo(new SparkConfig("local[2]", 4, "2g"));
    assertThat(config.stack())
        .isEqualTo(
            new StackConfig(
                19092,
                19093,
                19000,
                18080,
                "3G",
                Optional.empty(),
                13306,
                Duration.ofSeconds(180)));
  }

  @Test
  void environmentVariablesOverrideTheirKeys() {
    Map<String, String> environment =
        Map.ofEntries(
            Map.entry("LAKE_LOCAL_DIR", "/var/lake"),
            Map.entry("LAKE_KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9092,kafka-2:9092"),
            Map.entry("LAKE_S3_ENDPOINT", ""),
            Map.entry("LAKE_S3_REGION", "eu-west-1"),
            Map.entry("LAKE_S3_ACCESS_KEY", ""),
            Map.entry("LAKE_S3_SECRET_KEY", ""),
            Map.entry("LAKE_S3_PATH_STYLE_ACCESS", "false"),
            Map.entry("LAKE_S3_BUCKET", "acme-lake"),
            Map.entry("LAKE_TOPIC_PARTITIONS", "48"),
            Map.entry("LAKE_TOPIC_REPLICATION_FACTOR", "3"),
            Map.entry("LAKE_TRINO_URL", "jdbc:trino://trino:8443?SSL=true"),
            Map.entry("LAKE_TRINO_USER", "analyst"),
            Map.entry("LAKE_MARIADB_HOST", "db"),
            Map.entry("LAKE_MARIADB_PORT", "3306"),
            Map.entry("LAKE_MARIADB_USER", "importer"),
            Map.entry("LAKE_MARIADB_PASSWORD", "secret"),
            Map.entry("LAKE_MAXWELL_USER", "mx"),
            Map.entry("LAKE_MAXWELL_PASSWORD", "mx-secret"),
            Map.entry("LAKE_SPARK_MASTER", "yarn"),
            Map.entry("LAKE_SPARK_SHUFFLE_PARTITIONS", "400"),
            Map.entry("LAKE_TRINO_JAVA_HOME", "/opt/jdk-25"));

    LakeConfig config = load(environment, Map.of());

    assertThat(config.localDirectory()).isEqualTo(Path.of("/var/lake"));
    assertThat(config.kafka().bootstrapServers()).isEqualTo("kafka-1:9092,kafka-2:9092");
    assertThat(config.s3())
        .isEqualTo(
            new S3Config(
                Optional.empty(),
                "eu-west-1",
                Optional.empty(),
                Optional.empty(),
                false,
                "acme-lake"));
    // The storage locations follow the bucket unless set themselves.
    assertThat(config.storage().root()).isEqualTo("s3a://acme-lake/warehouse");
    assertThat(config.storage().checkpoints()).isEqualTo("s3a://acme-lake/checkpoints");
    assertThat(config.topics().partitions()).isEqualTo(48);
    assertThat(config.topics().replicationFactor()).isEqualTo(3);
    assertThat(config.trino().url()).isEqualTo("jdbc:trino://trino:8443?SSL=true");
    assertThat(config.trino().user()).isEqualTo("analyst");
    assertThat(config.mariaDb())
        .isEqualTo(new MariaDbConfig("db", 3306, "importer", "secret", 101));
    assertThat(config.maxwell().user()).isEqualTo("mx");
    assertThat(config.maxwell().password()).isEqualTo("mx-secret");
    assertThat(config.spark().master()).isEqualTo("yarn");
    assertThat(config.spark().shufflePartitions()).isEqualTo(400);
    assertThat(config.stack().trinoJavaHome()).contains("/opt/jdk-25");
  }

  @Test
  void storageLocationsCanBeSetApart() {
    LakeConfig config =
        load(
            Map.of(
                "LAKE_STORAGE_ROOT", "s3a://tables/lake/",
                "LAKE_STORAGE_CHECKPOINTS", "s3a://state/checkpoints"),
            Map.of());

    assertThat(config.storage().tableLocation("raw", "events"))
        .isEqualTo("s3a://tables/lake/raw/events");
    assertThat(config.storage().checkpointLocation("landing"))
        .isEqualTo("s3a://state/checkpoints/landing");
    assertThat(StorageConfig.trinoLocation(config.storage().tableLocation("raw", "events")))
        .isEqualTo("s3://tables/lake/raw/events");
  }

  @Test
  void clusterFileIsReadOnTopOfTheDefaults(@TempDir Path directory) throws IOException {
    Path cluster = directory.resolve("cluster.conf");
    Files.writeString(
        cluster,
        """
        lake.s3.bucket = "prod-lake"
        lake.kafka.client-properties { "security.protocol" = "SASL_SSL" }
        """);

    LakeConfig config = load(Map.of("LAKE_CONFIG_FILE", cluster.toString()), Map.of());

    assertThat(config.s3().bucket()).isEqualTo("prod-lake");
    assertThat(config.storage().root()).isEqualTo("s3a://prod-lake/warehouse");
    assertThat(config.kafka().clientProperties()).containsEntry("security.protocol", "SASL_SSL");
    // Everything else keeps its default.
    assertThat(config.kafka().bootstrapServers()).isEqualTo("127.0.0.1:19092");
  }

  @Test
  void theClusterExampleIsValid() {
    LakeConfig config =
        load(
            Map.of("LAKE_CONFIG_FILE", Path.of(CONF_DIRECTORY, "cluster.conf.example").toString()),
            Map.of());

    assertThat(config.s3().endpoint()).isEmpty();
    assertThat(config.s3().accessKey()).isEmpty();
    assertThat(config.spark().master()).isEqualTo("yarn");
    assertThat(config.topics().replicationFactor()).isEqualTo(3);
  }

  @Test
  void missingClusterFileIsAClearError() {
    assertThatThrownBy(() -> load(Map.of("LAKE_CONFIG_FILE", "/no/such/cluster.conf"), Map.of()))
        .isInstanceOf(LakeException.class)
        .hasMessage(
            "Configuration file /no/such/cluster.conf named by LAKE_CONFIG_FILE does not exist");
  }

  @Test
  void badValuesNameTheirKey() {
    assertThatThrownBy(() -> load(Map.of("LAKE_MARIADB_PORT", "70000"), Map.of()))
        .isInstanceOf(LakeException.class)
        .hasMessage(
            "Configuration key lake.mariadb.port is 70000, but must be a port between 1 and 65535")
        .extracting(error -> ((LakeException) error).errorCode())
        .isEqualTo(ErrorCode.INVALID_CONFIGURATION);
    assertThatThrownBy(() -> load(Map.of("LAKE_TRINO_URL", "http://trino:8080"), Map.of()))
        .hasMessage(
            "Configuration key lake.trino.url is http://trino:8080, but must be a JDBC URL starting"
                + " with jdbc:trino://");
    assertThatThrownBy(() -> load(Map.of("LAKE_KAFKA_BOOTSTRAP_SERVERS", " "), Map.of()))
        .hasMessage(
            "Configuration key lake.kafka.bootstrap-servers is empty: set it in conf/ or its"
                + " environment variable");
    assertThatThrownBy(() -> load(Map.of("LAKE_TOPIC_PARTITIONS", "many"), Map.of()))
        .isInstanceOf(LakeException.class)
        .hasMessageStartingWith("Invalid configuration: ")
        .hasMessageContaining("partitions");
  }

  @Test
  void secretsStayOutOfToString() {
    LakeConfig config = load(Map.of(), Map.of());

    assertThat(config.toString())
        .doesNotContain("lake-secret-local")
        .doesNotContain("lake-local,")
        .doesNotContain("maxwell-local");
  }

  private static LakeConfig load(Map<String, String> environment, Map<String, String> overrides) {
    Map<String, String> withConf = new java.util.HashMap<>(environment);
    withConf.put(LakeConfigLoader.CONF_DIRECTORY_VARIABLE, CONF_DIRECTORY);
    return LakeConfigLoader.load(withConf, overrides);
  }
}
