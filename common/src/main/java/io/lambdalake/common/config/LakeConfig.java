package io.lambdalake.common.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;

/** The whole configuration of lambda-lake, read once from conf/ by {@link LakeConfigLoader}. */
public record LakeConfig(
    Path localDirectory,
    KafkaConfig kafka,
    S3Config s3,
    StorageConfig storage,
    TopicsConfig topics,
    TrinoConfig trino,
    MariaDbConfig mariaDb,
    MaxwellConfig maxwell,
    SparkConfig spark,
    StackConfig stack,
    CollectorConfig collector,
    ApiConfig api,
    AirflowConfig airflow,
    CdcConfig cdc,
    ConsumersConfig consumers,
    SpeedConfig speed,
    LaunchConfig launch,
    DeltaConfig delta,
    CatalogConfig catalog) {

  public LakeConfig {
    requireNonNull(localDirectory, "localDirectory is null");
    requireNonNull(kafka, "kafka is null");
    requireNonNull(s3, "s3 is null");
    requireNonNull(storage, "storage is null");
    requireNonNull(topics, "topics is null");
    requireNonNull(trino, "trino is null");
    requireNonNull(mariaDb, "mariaDb is null");
    requireNonNull(maxwell, "maxwell is null");
    requireNonNull(spark, "spark is null");
    requireNonNull(stack, "stack is null");
    requireNonNull(collector, "collector is null");
    requireNonNull(api, "api is null");
    requireNonNull(airflow, "airflow is null");
    requireNonNull(cdc, "cdc is null");
    requireNonNull(consumers, "consumers is null");
    requireNonNull(speed, "speed is null");
    requireNonNull(launch, "launch is null");
    requireNonNull(delta, "delta is null");
    requireNonNull(catalog, "catalog is null");
  }

  /** This configuration with another {@code lake.api} section, e.g. for a benchmark's own keys. */
  public LakeConfig withApi(ApiConfig otherApi) {
    return new LakeConfig(
        localDirectory,
        kafka,
        s3,
        storage,
        topics,
        trino,
        mariaDb,
        maxwell,
        spark,
        stack,
        collector,
        otherApi,
        airflow,
        cdc,
        consumers,
        speed,
        launch,
        delta,
        catalog);
  }
}
