package io.lambdalake.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
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
        .isEqualTo(new TrinoConfig("jdbc:trino://127.0.0.1:18080", "lake", "lake", ""));
    assertThat(config.mariaDb())
        .isEqualTo(new MariaDbConfig("127.0.0.1", 13306, "lake", "lake-local-password", 101));
    assertThat(config.maxwell())
        .isEqualTo(
            new MaxwellConfig(
                "maxwell", "maxwell-local-password", 6379, "lambda-lake", "maxwell", 6380));
    assertThat(config.spark()).isEqualTo(new SparkConfig("local[2]", 4, "2g"));
    assertThat(config.cdc()).isEqualTo(new CdcConfig(Map.of(), 100));
    assertThat(config.speed()).isEqualTo(new SpeedConfig(100));
    assertThat(config.consumers())
        .isEqualTo(
            new ConsumersConfig(
                "matrimony",
                new ConsumersConfig.Spam(
                    "consumers.spam-flags",
                    Duration.ofMinutes(10),
                    30,
                    40,
                    8,
                    Duration.ofHours(24),
                    15,
                    Duration.ofHours(24),
                    3,
                    Duration.ofSeconds(2)),
                new ConsumersConfig.Match(10)));
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
                19083,
                "hive_metastore",
                Duration.ofSeconds(180),
                new SparkClusterConfig(17077, 17080, 17078, 17081, 6, "6g")));
    assertThat(config.airflow())
        .isEqualTo(
            new AirflowConfig(
                "http://127.0.0.1:18280",
                "lake",
                "lake-airflow-local",
                "lambda_lake_backfill",
                "lambda_lake_nightly",
                "lambda_lake_cdc_reconcile",
                Duration.ofSeconds(5),
                Duration.ofSeconds(30),
                Duration.ofMinutes(15),
                Optional.empty()));
    assertThat(config.airflow().port()).isEqualTo(18280);
    assertThat(config.launch())
        .isEqualTo(
            new LaunchConfig(
                Path.of("..").toAbsolutePath().normalize().resolve(".lake-local/runs"),
                Duration.ofSeconds(3)));
  }

  @Test
  void runsFollowTheLocalDirectoryUnlessSetThemselves() {
    assertThat(load(Map.of("LAKE_LOCAL_DIR", "/var/lake"), Map.of()).launch().runsDirectory())
        .isEqualTo(Path.of("/var/lake/runs"));

    LaunchConfig launch =
        load(
                Map.of(
                    "LAKE_RUNS_DIRECTORY", "/srv/lake-runs",
                    "LAKE_PREFLIGHT_TIMEOUT", "500ms"),
                Map.of())
            .launch();

    assertThat(launch)
        .isEqualTo(new LaunchConfig(Path.of("/srv/lake-runs"), Duration.ofMillis(500)));
    assertThatThrownBy(() -> load(Map.of(), Map.of("lake.preflight.timeout", "0s")))
        .isInstanceOf(LakeException.class)
        .hasMessage(
            "Configuration key lake.preflight.timeout is PT0S, but must be a positive duration");
  }

  @Test
  void airflowComesFromTheEnvironment() {
    AirflowConfig airflow =
        load(
                Map.of(
                    "LAKE_AIRFLOW_URL", "https://airflow.example.com/",
                    "LAKE_AIRFLOW_USER", "scheduler-bot",
                    "LAKE_AIRFLOW_PASSWORD", "from-a-vault",
                    "LAKE_AIRFLOW_HOME", "/srv/airflow"),
                Map.of())
            .airflow();

    assertThat(airflow.url()).isEqualTo("https://airflow.example.com");
    assertThat(airflow.port()).isEqualTo(443);
    assertThat(airflow.user()).isEqualTo("scheduler-bot");
    assertThat(airflow.password()).isEqualTo("from-a-vault");
    assertThat(airflow.localHome()).contains("/srv/airflow");
    assertThat(airflow.toString()).doesNotContain("from-a-vault");
    assertThatThrownBy(() -> load(Map.of("LAKE_AIRFLOW_URL", "airflow:8080"), Map.of()))
        .hasMessage(
            "Configuration key lake.airflow.url is airflow:8080, but must be an http:// or"
                + " https:// URL");
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
            Map.entry("LAKE_TRINO_SCHEMA_PREFIX", "staging_"),
            Map.entry("LAKE_MARIADB_HOST", "db"),
            Map.entry("LAKE_MARIADB_PORT", "3306"),
            Map.entry("LAKE_MARIADB_USER", "importer"),
            Map.entry("LAKE_MARIADB_PASSWORD", "secret"),
            Map.entry("LAKE_MAXWELL_USER", "mx"),
            Map.entry("LAKE_MAXWELL_PASSWORD", "mx-secret"),
            Map.entry("LAKE_MAXWELL_DDL_RELAY_SERVER_ID", "7001"),
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
    assertThat(config.trino().schemaPrefix()).isEqualTo("staging_");
    assertThat(config.trino().schema("serving")).isEqualTo("staging_serving");
    assertThat(config.mariaDb())
        .isEqualTo(new MariaDbConfig("db", 3306, "importer", "secret", 101));
    assertThat(config.maxwell().user()).isEqualTo("mx");
    assertThat(config.maxwell().password()).isEqualTo("mx-secret");
    assertThat(config.maxwell().ddlRelayServerId()).isEqualTo(7001);
    assertThat(config.spark().master()).isEqualTo("yarn");
    assertThat(config.spark().shufflePartitions()).isEqualTo(400);
    assertThat(config.stack().trinoJavaHome()).contains("/opt/jdk-25");
  }

  @Test
  void aSecondStackMovesItsServersAndTheirClientsWithOneSetOfPorts() {
    Map<String, String> environment =
        Map.ofEntries(
            Map.entry("LAKE_LOCAL_DIR", "/work/second-stack"),
            Map.entry("LAKE_STACK_KAFKA_PORT", "29092"),
            Map.entry("LAKE_STACK_KAFKA_CONTROLLER_PORT", "29093"),
            Map.entry("LAKE_STACK_S3PROXY_PORT", "29000"),
            Map.entry("LAKE_STACK_TRINO_PORT", "28080"),
            Map.entry("LAKE_STACK_MARIADB_PORT", "23306"),
            Map.entry("LAKE_STACK_SPARK_MASTER_PORT", "27077"),
            Map.entry("LAKE_STACK_SPARK_MASTER_WEB_UI_PORT", "27080"),
            Map.entry("LAKE_STACK_SPARK_WORKER_PORT", "27078"),
            Map.entry("LAKE_STACK_SPARK_WORKER_WEB_UI_PORT", "27081"),
            Map.entry("LAKE_STACK_METASTORE_PORT", "29083"),
            Map.entry("LAKE_AIRFLOW_URL", "http://127.0.0.1:28280"),
            Map.entry("LAKE_COLLECTOR_PORT", "28090"),
            Map.entry("LAKE_API_PORT", "28095"));

    LakeConfig config = load(environment, Map.of());

    assertThat(config.stack())
        .isEqualTo(
            new StackConfig(
                29092,
                29093,
                29000,
                28080,
                "3G",
                Optional.empty(),
                23306,
                29083,
                "hive_metastore",
                Duration.ofSeconds(180),
                new SparkClusterConfig(27077, 27080, 27078, 27081, 6, "6g")));
    assertThat(config.catalog().metastoreUri()).isEqualTo("thrift://127.0.0.1:29083");
    assertThat(config.kafka().bootstrapServers()).isEqualTo("127.0.0.1:29092");
    assertThat(config.s3().endpoint()).contains("http://127.0.0.1:29000");
    assertThat(config.trino().url()).isEqualTo("jdbc:trino://127.0.0.1:28080");
    assertThat(config.mariaDb().port()).isEqualTo(23306);
    assertThat(config.airflow().port()).isEqualTo(28280);
    assertThat(config.collector().port()).isEqualTo(28090);
    assertThat(config.api().port()).isEqualTo(28095);
    // A client setting of its own still wins over the stack's port.
    assertThat(
            load(
                    Map.of("LAKE_STACK_KAFKA_PORT", "29092", "LAKE_KAFKA_BOOTSTRAP_SERVERS", "k:9"),
                    Map.of())
                .kafka()
                .bootstrapServers())
        .isEqualTo("k:9");
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
    assertThat(config.api().keys()).isEmpty();
    assertThat(config.airflow().url()).isEqualTo("https://airflow.internal");
    assertThat(config.airflow().user()).isEqualTo("lake-service");
    assertThat(config.catalog())
        .isEqualTo(
            new CatalogConfig(CatalogConfig.Type.THRIFT, "thrift://metastore.internal:9083"));
  }

  @Test
  void missingClusterFileIsAClearError() {
    assertThatThrownBy(() -> load(Map.of("LAKE_CONFIG_FILE", "/no/such/cluster.conf"), Map.of()))
        .isInstanceOf(LakeException.class)
        .hasMessage(
            "Configuration file /no/such/cluster.conf named by LAKE_CONFIG_FILE does not exist");
  }

  @Test
  void aBareNameIsTheFileSparkSubmitShippedToTheWorkingDirectory(@TempDir Path workingDirectory)
      throws IOException {
    Files.writeString(workingDirectory.resolve("lake.conf"), "lake.s3.bucket = \"shipped\"\n");

    LakeConfig config =
        load(Map.of("LAKE_CONFIG_FILE", "lake.conf"), sources(workingDirectory, List.of()));

    assertThat(config.s3().bucket()).isEqualTo("shipped");
  }

  @Test
  void aBareNameNotInTheWorkingDirectoryIsAClearError(@TempDir Path workingDirectory) {
    assertThatThrownBy(
            () ->
                load(Map.of("LAKE_CONFIG_FILE", "lake.conf"), sources(workingDirectory, List.of())))
        .isInstanceOf(LakeException.class)
        .hasMessage(
            "Configuration file lake.conf named by LAKE_CONFIG_FILE does not exist in the working"
                + " directory "
                + workingDirectory
                + " (tried "
                + workingDirectory.resolve("lake.conf")
                + "; spark-submit --files puts a file there for a driver in cluster deploy mode;"
                + " in client deploy mode name the local file)");
  }

  @Test
  void aUrlIsReadByTheReaderOfItsScheme(@TempDir Path workingDirectory) {
    FakeReader reader =
        new FakeReader(
            Set.of("s3a", "s3"), "lake.s3.bucket = \"from-s3\"\nlake.topics.partitions = 12\n");

    LakeConfig config =
        load(
            Map.of("LAKE_CONFIG_FILE", "s3a://config-bucket/lake/prod.conf"),
            sources(workingDirectory, List.of(reader)));

    assertThat(reader.asked).containsExactly(URI.create("s3a://config-bucket/lake/prod.conf"));
    assertThat(config.s3().bucket()).isEqualTo("from-s3");
    assertThat(config.topics().partitions()).isEqualTo(12);
    // The environment sets what the file leaves, as with a local file; s3:// is read the same way.
    LakeConfig withEnvironment =
        load(
            Map.of(
                "LAKE_CONFIG_FILE", "s3://config-bucket/lake/prod.conf",
                "LAKE_KAFKA_BOOTSTRAP_SERVERS", "kafka.internal:9092"),
            sources(workingDirectory, List.of(reader)));
    assertThat(withEnvironment.kafka().bootstrapServers()).isEqualTo("kafka.internal:9092");
    assertThat(withEnvironment.s3().bucket()).isEqualTo("from-s3");
    assertThat(reader.asked).endsWith(URI.create("s3://config-bucket/lake/prod.conf"));
  }

  @Test
  void aUrlNoReaderReadsIsAClearError(@TempDir Path workingDirectory) {
    assertThatThrownBy(
            () ->
                load(
                    Map.of("LAKE_CONFIG_FILE", "s3a://config-bucket/lake.conf"),
                    sources(workingDirectory, List.of(new FakeReader(Set.of("gs"), "")))))
        .isInstanceOf(LakeException.class)
        .hasMessage(
            "Configuration file s3a://config-bucket/lake.conf named by LAKE_CONFIG_FILE cannot be"
                + " read: nothing on the class path reads s3a:// URLs (spark-common reads s3a:// and"
                + " s3://; or ship the file with spark-submit --files and name it by its file"
                + " name)");
  }

  @Test
  void aUrlThatCannotBeReadIsAClearErrorNotTheDefaults(@TempDir Path workingDirectory) {
    ConfigFileReader missing =
        new ConfigFileReader() {
          @Override
          public Set<String> schemes() {
            return Set.of("s3a");
          }

          @Override
          public String read(URI location) throws IOException {
            throw new FileNotFoundException("No such file or directory: " + location);
          }
        };

    assertThatThrownBy(
            () ->
                load(
                    Map.of("LAKE_CONFIG_FILE", "s3a://config-bucket/lake.conf"),
                    sources(workingDirectory, List.of(missing))))
        .isInstanceOf(LakeException.class)
        .hasMessage(
            "Cannot read configuration file s3a://config-bucket/lake.conf named by"
                + " LAKE_CONFIG_FILE: FileNotFoundException: No such file or directory:"
                + " s3a://config-bucket/lake.conf");
  }

  @Test
  void aFileUrlIsALocalPath(@TempDir Path directory) throws IOException {
    Path file = directory.resolve("lake.conf");
    Files.writeString(file, "lake.s3.bucket = \"from-file-url\"\n");

    assertThat(
            load(Map.of("LAKE_CONFIG_FILE", file.toUri().toString()), sources(directory, List.of()))
                .s3()
                .bucket())
        .isEqualTo("from-file-url");
    assertThatThrownBy(
            () ->
                load(
                    Map.of("LAKE_CONFIG_FILE", "file:///no/such/lake.conf"),
                    sources(directory, List.of())))
        .isInstanceOf(LakeException.class)
        .hasMessage(
            "Configuration file /no/such/lake.conf named by LAKE_CONFIG_FILE does not exist");
  }

  @Test
  void sparkSubmitsConfNamesTheFileForTheDriver(@TempDir Path workingDirectory) throws IOException {
    Files.writeString(workingDirectory.resolve("lake.conf"), "lake.s3.bucket = \"by-conf\"\n");
    System.setProperty(LakeConfigLoader.SPARK_CONFIG_FILE_PROPERTY, "lake.conf");
    try {
      // spark.lake.config.file (--conf) wins over the environment, which a cluster driver lacks.
      assertThat(
              load(
                      Map.of("LAKE_CONFIG_FILE", "/no/such/cluster.conf"),
                      sources(workingDirectory, List.of()))
                  .s3()
                  .bucket())
          .isEqualTo("by-conf");
      System.setProperty(LakeConfigLoader.SPARK_CONFIG_FILE_PROPERTY, "missing.conf");
      assertThatThrownBy(() -> load(Map.of(), sources(workingDirectory, List.of())))
          .isInstanceOf(LakeException.class)
          .hasMessageStartingWith(
              "Configuration file missing.conf named by spark.lake.config.file does not exist in"
                  + " the working directory ");
    } finally {
      System.clearProperty(LakeConfigLoader.SPARK_CONFIG_FILE_PROPERTY);
    }
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
    assertThatThrownBy(() -> load(Map.of("LAKE_TRINO_SCHEMA_PREFIX", "Test-"), Map.of()))
        .hasMessage(
            "Configuration key lake.trino.schema-prefix is Test-, but must be empty or made of"
                + " lower-case letters, digits and underscores");
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
        .doesNotContain(config.s3().secretKey().orElseThrow())
        .doesNotContain(config.mariaDb().password())
        .doesNotContain(config.maxwell().password())
        .doesNotContain(config.airflow().password());
  }

  @Test
  void pinsEveryCollectorDefault() {
    CollectorConfig collector = load(Map.of(), Map.of()).collector();

    assertThat(collector)
        .isEqualTo(
            new CollectorConfig(
                "127.0.0.1",
                18090,
                0,
                false,
                List.of("*"),
                new CollectorConfig.Limits(
                    1024 * 1024,
                    32 * 1024,
                    500,
                    50,
                    64,
                    1024,
                    128,
                    4096,
                    16 * 1024,
                    10_000,
                    Duration.ofHours(72),
                    Duration.ofMinutes(10),
                    10_000,
                    Duration.ofSeconds(30),
                    256L * 1024 * 1024),
                new CollectorConfig.RateLimit(2000, 10_000),
                new CollectorConfig.RateLimit(1000, 20_000),
                new CollectorConfig.QuarantineBudget(
                    new CollectorConfig.RateLimit(10, 100),
                    new CollectorConfig.RateLimit(1000, 10_000)),
                Map.of(
                    "LL-DEMO-0001",
                    new CollectorConfig.TrackingId("demo-shop", Optional.empty()),
                    "LL-DEMO-0002",
                    new CollectorConfig.TrackingId(
                        "demo-app", Optional.of(new CollectorConfig.RateLimit(500, 2000))),
                    "LL-DEMO-0003",
                    new CollectorConfig.TrackingId("demo-marketplace", Optional.empty())),
                Map.of(
                    "page_view", "events.page_view",
                    "screen_view", "events.screen_view",
                    "add_to_cart", "events.add_to_cart",
                    "purchase", "events.purchase"),
                new CollectorConfig.Producer(
                    Duration.ofSeconds(5),
                    Duration.ofSeconds(2),
                    Duration.ofMillis(500),
                    Duration.ofMillis(5),
                    64 * 1024,
                    64L * 1024 * 1024),
                Duration.ofSeconds(5),
                Duration.ofSeconds(60),
                Duration.ofSeconds(30),
                Duration.ofSeconds(1),
                true));
    assertThat(collector.producer().kafkaProperties())
        .containsExactly(
            Map.entry("delivery.timeout.ms", "5000"),
            Map.entry("request.timeout.ms", "2000"),
            Map.entry("max.block.ms", "500"),
            Map.entry("linger.ms", "5"),
            Map.entry("batch.size", "65536"),
            Map.entry("buffer.memory", "67108864"));
    assertThat(collector.rateLimitOf(collector.trackingId("LL-DEMO-0001").orElseThrow()))
        .isEqualTo(new CollectorConfig.RateLimit(2000, 10_000));
    assertThat(collector.rateLimitOf(collector.trackingId("LL-DEMO-0002").orElseThrow()))
        .isEqualTo(new CollectorConfig.RateLimit(500, 2000));
    assertThat(collector.trackingId("LL-UNKNOWN")).isEmpty();
  }

  @Test
  void collectorKeysCanBeOverridden(@TempDir Path directory) throws IOException {
    Path cluster = directory.resolve("cluster.conf");
    Files.writeString(
        cluster,
        """
        lake.topics.events-prefix = "web."
        lake.collector {
          tracking-ids.LL-ACME-1 { merchant = "acme", rate-limit { events-per-second = 0.5, burst = 3 } }
          routes.sign_up = "web.sign_up"
          cors-allowed-origins = ["https://shop.example", "https://app.example"]
          producer.delivery-timeout = 30s
        }
        """);

    CollectorConfig collector =
        load(
                Map.of(
                    "LAKE_CONFIG_FILE", cluster.toString(),
                    "LAKE_COLLECTOR_HOST", "0.0.0.0",
                    "LAKE_COLLECTOR_PORT", "8080",
                    "LAKE_COLLECTOR_TRUST_FORWARDED_FOR", "true"),
                Map.of("lake.collector.limits.max-batch-events", "100"))
            .collector();

    assertThat(collector.host()).isEqualTo("0.0.0.0");
    assertThat(collector.port()).isEqualTo(8080);
    assertThat(collector.trustForwardedFor()).isTrue();
    assertThat(collector.limits().maxBatchEvents()).isEqualTo(100);
    assertThat(collector.corsAllowedOrigins())
        .containsExactly("https://shop.example", "https://app.example");
    assertThat(collector.producer().deliveryTimeout()).isEqualTo(Duration.ofSeconds(30));
    // Registrations and routes add to the defaults; the routes follow the topic prefix.
    assertThat(collector.trackingIds())
        .containsKeys("LL-DEMO-0001", "LL-DEMO-0002", "LL-DEMO-0003")
        .containsEntry(
            "LL-ACME-1",
            new CollectorConfig.TrackingId(
                "acme", Optional.of(new CollectorConfig.RateLimit(0.5, 3))));
    assertThat(collector.sortedRoutes())
        .containsExactly(
            Map.entry("add_to_cart", "web.add_to_cart"),
            Map.entry("page_view", "web.page_view"),
            Map.entry("purchase", "web.purchase"),
            Map.entry("screen_view", "web.screen_view"),
            Map.entry("sign_up", "web.sign_up"));
  }

  @Test
  void badCollectorValuesNameTheirKey() {
    assertThatThrownBy(() -> load(Map.of("LAKE_COLLECTOR_PORT", "65536"), Map.of()))
        .isInstanceOf(LakeException.class)
        .hasMessage(
            "Configuration key lake.collector.port is 65536, but must be a port between 1 and"
                + " 65535");
    assertThatThrownBy(
            () -> load(Map.of(), Map.of("lake.collector.routes.sign_up", "events/sign up")))
        .hasMessage(
            "Configuration key lake.collector.routes.sign_up is \"events/sign up\", but must be a"
                + " Kafka topic name: 1 to 249 letters, digits, '.', '_' and '-'");
    assertThatThrownBy(
            () -> load(Map.of(), Map.of("lake.collector.routes.\"sign up\"", "events.sign_up")))
        .hasMessage(
            "Configuration key lake.collector.routes is \"sign up\", but must be an event name: a"
                + " letter, then up to 63 letters, digits and '_'");
    assertThatThrownBy(
            () -> load(Map.of(), Map.of("lake.collector.tracking-ids.\"LL 1\".merchant", "acme")))
        .hasMessage(
            "Configuration key lake.collector.tracking-ids is \"LL 1\", but must be made of 1 to 64"
                + " letters, digits, '-' and '_'");
    assertThatThrownBy(
            () -> load(Map.of(), Map.of("lake.collector.limits.max-event-size", "2 MiB")))
        .hasMessage(
            "Configuration key lake.collector.limits.max-event-size is 2097152, but must be at most"
                + " lake.collector.limits.max-request-size (1048576)");
    assertThatThrownBy(
            () -> load(Map.of(), Map.of("lake.collector.producer.delivery-timeout", "1s")))
        .hasMessage(
            "Configuration key lake.collector.producer.delivery-timeout is PT1S, but must be at"
                + " least request-timeout + linger (PT2.005S)");
    assertThatThrownBy(
            () -> load(Map.of(), Map.of("lake.collector.rate-limit.events-per-second", "0")))
        .hasMessage(
            "Configuration key lake.collector.rate-limit.events-per-second is 0.0, but must be a"
                + " positive number");
  }

  @Test
  void pinsEveryApiDefault() {
    ApiConfig api = load(Map.of(), Map.of()).api();

    assertThat(api)
        .isEqualTo(
            new ApiConfig(
                "127.0.0.1",
                18095,
                16,
                Duration.ofSeconds(5),
                10_000,
                new ApiConfig.RateLimit(20, 100),
                1000,
                Duration.ofDays(400),
                100,
                new ApiConfig.Views(
                    "serving.events_hourly",
                    "serving.pages_hourly",
                    "serving.sessions_daily",
                    "serving.traffic_daily"),
                List.of(
                    new ApiConfig.Key(
                        "sha256:a7e8774daa457a7ec0e2d62cc70d25db741124ba5b15755ea0eb47d348a260a0",
                        "demo-shop",
                        List.of("LL-DEMO-0001"),
                        ZoneId.of("Europe/Berlin"))),
                Duration.ofSeconds(60),
                100,
                Duration.ofSeconds(30),
                ApiConfig.Source.TRINO,
                new ApiConfig.Store(
                    "127.0.0.1",
                    13306,
                    "lake_serving",
                    "lake",
                    "lake-local-password",
                    16,
                    Duration.ofSeconds(2),
                    2000,
                    false)));
  }

  @Test
  void apiStoreFollowsTheSchemaPrefixAndRefusesAnUnknownSource() {
    assertThat(load(Map.of(), Map.of("lake.trino.schema-prefix", "it7_")).api().store().database())
        .isEqualTo("it7_lake_serving");
    assertThat(load(Map.of(), Map.of("lake.api.source", "store")).api().source())
        .isEqualTo(ApiConfig.Source.STORE);
    assertThatThrownBy(() -> load(Map.of(), Map.of("lake.api.source", "redis")))
        .hasMessageContaining("lake.api.source is redis, but must be store or trino");
  }

  @Test
  void apiKeysCanBeOverridden(@TempDir Path directory) throws IOException {
    Path cluster = directory.resolve("cluster.conf");
    Files.writeString(
        cluster,
        """
        lake.api.keys = [
          { key-hash = "sha256:0000000000000000000000000000000000000000000000000000000000000001",
            merchant = "acme", tracking-ids = ["LL-ACME-1", "LL-ACME-2"] }
        ]
        lake.api.views.events-hourly = "test_schema.events_hourly"
        """);

    ApiConfig api =
        load(
                Map.of(
                    "LAKE_CONFIG_FILE", cluster.toString(),
                    "LAKE_API_HOST", "0.0.0.0",
                    "LAKE_API_PORT", "8443",
                    "LAKE_API_CACHE_TTL", "30s"),
                Map.of("lake.api.rate-limit.burst", "7"))
            .api();

    assertThat(api.host()).isEqualTo("0.0.0.0");
    assertThat(api.port()).isEqualTo(8443);
    assertThat(api.cacheTtl()).isEqualTo(Duration.ofSeconds(30));
    assertThat(api.rateLimit().burst()).isEqualTo(7);
    assertThat(api.views().eventsHourly()).isEqualTo("test_schema.events_hourly");
    // The list replaces the demo key; a key without a time zone follows UTC.
    assertThat(api.keys())
        .containsExactly(
            new ApiConfig.Key(
                "sha256:0000000000000000000000000000000000000000000000000000000000000001",
                "acme",
                List.of("LL-ACME-1", "LL-ACME-2"),
                ZoneId.of("UTC")));
    assertThat(api.keys().get(0).toString()).doesNotContain("0001");
  }

  @Test
  void theApiReadsTheViewsOfItsOwnCopyOfTheLake() {
    assertThat(load(Map.of(), Map.of()).api().views().eventsHourly())
        .isEqualTo("serving.events_hourly");

    ApiConfig.Views views =
        load(Map.of("LAKE_TRINO_SCHEMA_PREFIX", "staging_"), Map.of()).api().views();

    assertThat(views.eventsHourly()).isEqualTo("staging_serving.events_hourly");
    assertThat(views.pagesHourly()).isEqualTo("staging_serving.pages_hourly");
    assertThat(views.sessionsDaily()).isEqualTo("staging_serving.sessions_daily");
    assertThat(views.trafficDaily()).isEqualTo("staging_serving.traffic_daily");
  }

  @Test
  void badApiValuesNameTheirKey(@TempDir Path directory) throws IOException {
    assertThatThrownBy(
            () -> load(Map.of(), Map.of("lake.api.views.events-hourly", "serving.x; DROP TABLE y")))
        .isInstanceOf(LakeException.class)
        .hasMessage(
            "Configuration key lake.api.views.events-hourly is serving.x; DROP TABLE y, but must"
                + " be schema.view in lower case letters, digits and '_' (e.g. serving.x)");
    Path plainKey = directory.resolve("plain-key.conf");
    Files.writeString(
        plainKey,
        "lake.api.keys = [{ key-hash = \"plain-key\", merchant = m, tracking-ids = [T] }]");
    assertThatThrownBy(() -> load(Map.of("LAKE_CONFIG_FILE", plainKey.toString()), Map.of()))
        .isInstanceOf(LakeException.class)
        .hasMessage(
            "Configuration key lake.api.keys[].key-hash is plain-key, but must be sha256: and 64"
                + " lower-case hex digits (`lake api keys create` prints it)");
    Path badZone = directory.resolve("bad-zone.conf");
    Files.writeString(
        badZone,
        "lake.api.keys = [{ key-hash = \"sha256:"
            + "0".repeat(64)
            + "\", merchant = m, tracking-ids = [T], time-zone = Mars/Olympus }]");
    assertThatThrownBy(() -> load(Map.of("LAKE_CONFIG_FILE", badZone.toString()), Map.of()))
        .hasMessage(
            "Configuration key lake.api.keys[].time-zone is Mars/Olympus, but must be an IANA time"
                + " zone, e.g. UTC");
    assertThatThrownBy(() -> load(Map.of(), Map.of("lake.api.cache.ttl", "0s")))
        .hasMessage(
            "Configuration key lake.api.cache.ttl is PT0S, but must be a positive duration");
  }

  @Test
  void limitsUnderPressureFollowTheirEnvironmentVariables() {
    Map<String, String> environment = new HashMap<>();
    environment.put("LAKE_COLLECTOR_MAX_CONNECTIONS", "5");
    environment.put("LAKE_COLLECTOR_REQUEST_TIMEOUT", "3s");
    environment.put("LAKE_COLLECTOR_MAX_BUFFERED_BODIES", "8 MiB");
    environment.put("LAKE_COLLECTOR_CLIENT_EVENTS_PER_SECOND", "50");
    environment.put("LAKE_COLLECTOR_CLIENT_BURST", "60");
    environment.put("LAKE_COLLECTOR_QUARANTINE_PER_SECOND", "7");
    environment.put("LAKE_API_MAX_QUEUED_QUERIES", "3");
    environment.put("LAKE_API_QUERY_TIMEOUT", "4s");
    environment.put("LAKE_API_IDLE_TIMEOUT", "9s");
    LakeConfig config = load(environment, Map.of());

    CollectorConfig collector = config.collector();
    assertThat(collector.limits().maxConnections()).isEqualTo(5);
    assertThat(collector.limits().requestTimeout()).isEqualTo(Duration.ofSeconds(3));
    assertThat(collector.limits().maxBufferedBodyBytes()).isEqualTo(8L * 1024 * 1024);
    assertThat(collector.clientRateLimit()).isEqualTo(new CollectorConfig.RateLimit(50, 60));
    assertThat(collector.quarantineBudget().total())
        .isEqualTo(new CollectorConfig.RateLimit(7, 10_000));
    assertThat(config.api().maxQueuedQueries()).isEqualTo(3);
    assertThat(config.api().queryTimeout()).isEqualTo(Duration.ofSeconds(4));
    assertThat(config.api().idleTimeout()).isEqualTo(Duration.ofSeconds(9));
    assertThatThrownBy(
            () -> load(Map.of("LAKE_COLLECTOR_MAX_BUFFERED_BODIES", "512 KiB"), Map.of()))
        .hasMessage(
            "Configuration key lake.collector.limits.max-buffered-bodies is 524288, but must be at"
                + " least lake.collector.limits.max-request-size (1048576)");
  }

  private static LakeConfig load(Map<String, String> environment, Map<String, String> overrides) {
    return LakeConfigLoader.load(withConf(environment), overrides);
  }

  private static LakeConfig load(Map<String, String> environment, ConfigFileSources sources) {
    return LakeConfigLoader.load(withConf(environment), Map.of(), sources);
  }

  private static Map<String, String> withConf(Map<String, String> environment) {
    Map<String, String> withConf = new HashMap<>(environment);
    withConf.put(LakeConfigLoader.CONF_DIRECTORY_VARIABLE, CONF_DIRECTORY);
    return withConf;
  }

  private static ConfigFileSources sources(Path workingDirectory, List<ConfigFileReader> readers) {
    return new ConfigFileSources(workingDirectory, readers);
  }

  /** Serves one text for every URL of its schemes, and remembers what it was asked for. */
  private static final class FakeReader implements ConfigFileReader {
    private final Set<String> schemes;
    private final String text;
    private final List<URI> asked = new ArrayList<>();

    FakeReader(Set<String> schemes, String text) {
      this.schemes = Set.copyOf(schemes);
      this.text = text;
    }

    @Override
    public Set<String> schemes() {
      return schemes;
    }

    @Override
    public String read(URI location) {
      asked.add(location);
      return text;
    }
  }

  @Test
  void mongoPromotedFieldsAreReadPerCollection(@TempDir Path directory) throws IOException {
    Path cluster = directory.resolve("cluster.conf");
    Files.writeString(
        cluster,
        """
        lake.cdc.mongo.promoted-fields {
          "shop.orders" { status = "STRING", total = "DECIMAL(18,2)" }
        }
        """);

    CdcConfig cdc = load(Map.of("LAKE_CONFIG_FILE", cluster.toString()), Map.of()).cdc();

    assertThat(cdc.mongoPromotedFields())
        .containsExactly(
            Map.entry("shop.orders", Map.of("status", "STRING", "total", "DECIMAL(18,2)")));
    assertThat(cdc.mongoPromotedFields().get("shop.orders").keySet())
        .containsExactly("status", "total");
  }

  @Test
  void mongoPromotedFieldsNeedADatabaseAndCollection() {
    assertThatThrownBy(() -> new CdcConfig(Map.of("orders", Map.of("status", "STRING")), 100))
        .hasMessageContaining("lake.cdc.mongo.promoted-fields")
        .hasMessageContaining("orders");
  }

  @Test
  void compactionIntervalsComeFromTheEnvironmentAndMustNotBeNegative() {
    LakeConfig config =
        load(
            Map.of("LAKE_SPEED_COMPACT_EVERY_BATCHES", "7", "LAKE_CDC_COMPACT_EVERY_BATCHES", "0"),
            Map.of());
    assertThat(config.speed().compactEveryBatches()).isEqualTo(7);
    assertThat(config.cdc().compactEveryBatches()).isZero();
    assertThatThrownBy(() -> load(Map.of(), Map.of("lake.speed.compact-every-batches", "-1")))
        .isInstanceOf(LakeException.class)
        .hasMessageContaining("lake.speed.compact-every-batches");
  }

  @Test
  void theCatalogIsTheStacksHiveMetastoreByDefaultAndTrinosFileMetastoreWhenFile() {
    assertThat(load(Map.of(), Map.of()).catalog())
        .isEqualTo(new CatalogConfig(CatalogConfig.Type.THRIFT, "thrift://127.0.0.1:19083"));
    assertThat(load(Map.of("LAKE_CATALOG_TYPE", "file"), Map.of()).catalog())
        .isEqualTo(new CatalogConfig(CatalogConfig.Type.FILE, "thrift://127.0.0.1:19083"));
    LakeConfig thrift =
        load(
            Map.of(
                "LAKE_CATALOG_TYPE",
                "thrift",
                "LAKE_CATALOG_METASTORE_URI",
                "thrift://metastore.internal:9083"),
            Map.of());
    assertThat(thrift.catalog())
        .isEqualTo(
            new CatalogConfig(CatalogConfig.Type.THRIFT, "thrift://metastore.internal:9083"));
    assertThat(thrift.catalog().isShared()).isTrue();
    assertThat(load(Map.of("LAKE_STACK_METASTORE_DATABASE", "hms2"), Map.of()).stack())
        .extracting(StackConfig::metastoreDatabase)
        .isEqualTo("hms2");
  }

  @Test
  void aCatalogTypeOtherThanFileOrThriftIsRefusedNamingTheKey() {
    assertThatThrownBy(() -> load(Map.of("LAKE_CATALOG_TYPE", "glue"), Map.of()))
        .isInstanceOf(LakeException.class)
        .hasMessage("Configuration key lake.catalog.type is glue, but must be file or thrift");
    assertThatThrownBy(
            () -> load(Map.of("LAKE_CATALOG_METASTORE_URI", "http://127.0.0.1:9083"), Map.of()))
        .isInstanceOf(LakeException.class)
        .hasMessage(
            "Configuration key lake.catalog.metastore-uri is http://127.0.0.1:9083, but must be a"
                + " URI starting with thrift://");
  }

  @Test
  void conditionalDeltaCommitsAreOnByDefaultAndFollowTheirEnvironmentVariable() {
    assertThat(load(Map.of(), Map.of()).delta()).isEqualTo(new DeltaConfig(true));
    assertThat(load(Map.of("LAKE_DELTA_CONDITIONAL_COMMITS", "false"), Map.of()).delta())
        .isEqualTo(new DeltaConfig(false));
    assertThat(load(Map.of(), Map.of("lake.delta.conditional-commits", "false")).delta())
        .isEqualTo(new DeltaConfig(false));
  }

  @Test
  void badConsumersValuesNameTheirKey() {
    assertThatThrownBy(() -> load(Map.of(), Map.of("lake.consumers.spam.window", "0s")).consumers())
        .isInstanceOf(LakeException.class)
        .hasMessageContaining("lake.consumers.spam.window");
    assertThatThrownBy(() -> load(Map.of(), Map.of("lake.consumers.match.top-k", "0")))
        .hasMessageContaining("lake.consumers.match.top-k");
    assertThat(
            load(Map.of("LAKE_SAMPLE_DATABASE", "dating"), Map.of()).consumers().sampleDatabase())
        .isEqualTo("dating");
  }

  @Test
  void theSparkClusterSizeFollowsItsEnvironmentVariablesAndAWorkerMustOfferACore() {
    SparkClusterConfig cluster =
        load(
                Map.of(
                    "LAKE_STACK_SPARK_WORKER_CORES", "2", "LAKE_STACK_SPARK_WORKER_MEMORY", "3g"),
                Map.of())
            .stack()
            .sparkCluster();
    assertThat(cluster).isEqualTo(new SparkClusterConfig(17077, 17080, 17078, 17081, 2, "3g"));
    assertThat(cluster.masterUrl()).isEqualTo("spark://127.0.0.1:17077");
    assertThat(cluster.masterWebUiUrl()).isEqualTo("http://127.0.0.1:17080");
    assertThatThrownBy(() -> load(Map.of(), Map.of("lake.stack.spark-worker-cores", "0")))
        .isInstanceOf(LakeException.class)
        .hasMessageContaining("lake.stack.spark-worker-cores is 0");
    assertThatThrownBy(() -> load(Map.of(), Map.of("lake.stack.spark-worker-port", "65535")))
        .hasMessageContaining("lake.stack.spark-worker-port (+ workers - 1) is 65536");
  }
}
