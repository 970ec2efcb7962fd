package io.lambdalake.stack;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.lambdalake.common.config.CatalogConfig;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.S3Config;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * A single-node Trino (coordinator and worker) with the lake's Delta Lake catalog from
 * conf/trino/catalog/, on a JDK 24+ found by {@link JavaInstallations}.
 */
public final class TrinoServer extends ManagedServer {
  public static final String DISTRIBUTION = "trino-server";
  private final LakeConfig config;
  private final StackLayout layout;

  public TrinoServer(LakeConfig config, StackLayout layout) {
    super("trino", layout);
    this.config = config;
    this.layout = layout;
  }

  @Override
  public String address() {
    return "http://127.0.0.1:" + config.stack().trinoPort();
  }

  private Path installation() {
    Path installation = layout.distribution(DISTRIBUTION);
    if (!Files.isExecutable(installation.resolve("bin").resolve("launcher"))) {
      throw StackLayout.missingDistribution("trino", installation);
    }
    return installation;
  }

  private Path etc() {
    return home().resolve("etc");
  }

  @Override
  protected void prepare() throws IOException {
    Path etc = etc();
    Files.createDirectories(etc.resolve("catalog"));
    int port = config.stack().trinoPort();
    write(
        etc.resolve("node.properties"),
        "node.environment=lambda_lake_local",
        "node.id=lambda-lake-local-1",
        "node.data-dir=" + home().resolve("data"),
        // Listen on the loopback address only.
        "node.bind-ip=127.0.0.1");
    write(
        etc.resolve("config.properties"),
        "coordinator=true",
        "node-scheduler.include-coordinator=true",
        "http-server.http.port=" + port,
        "discovery.uri=http://127.0.0.1:" + port,
        "node.internal-address=127.0.0.1",
        "query.max-memory=1GB",
        "query.max-memory-per-node=1GB",
        // Small machine: fewer threads than Trino's defaults for a server.
        "task.concurrency=2",
        "task.max-worker-threads=8");
    write(
        etc.resolve("jvm.config"),
        "-server",
        "-Xmx" + config.stack().trinoMaxHeap(),
        "-XX:InitialRAMPercentage=10",
        "-XX:+UseG1GC",
        "-XX:+ExplicitGCInvokesConcurrent",
        "-XX:+HeapDumpOnOutOfMemoryError",
        "-XX:+ExitOnOutOfMemoryError",
        "-XX:ReservedCodeCacheSize=256M",
        "-XX:PerMethodRecompilationCutoff=10000",
        "-XX:PerBytecodeRecompilationCutoff=10000",
        "-Djdk.attach.allowAttachSelf=true",
        "-Djdk.nio.maxCachedBufferSize=2000000",
        "-Dfile.encoding=UTF-8",
        "-XX:+EnableDynamicAgentLoading");
    write(etc.resolve("log.properties"), "io.trino=INFO", "io.airlift=WARN");
    copyCatalogs(etc.resolve("catalog"));
  }

  /**
   * The catalogs of conf/trino/catalog/, as they are (values come from the environment), the lake's
   * with the metastore of {@code lake.catalog} added.
   */
  private void copyCatalogs(Path target) throws IOException {
    Path source = layout.confDirectory().resolve("trino").resolve("catalog");
    if (!Files.isDirectory(source)) {
      throw new LakeException(
          ErrorCode.INVALID_CONFIGURATION, "Trino catalogs are missing: no folder " + source);
    }
    try (Stream<Path> existing = Files.list(target)) {
      for (Path file : existing.toList()) {
        Files.delete(file);
      }
    }
    try (Stream<Path> catalogs = Files.list(source)) {
      for (Path catalog :
          catalogs.filter(path -> path.toString().endsWith(".properties")).toList()) {
        Path copy = target.resolve(catalog.getFileName());
        Files.copy(catalog, copy);
        if (catalog.getFileName().toString().equals(config.trino().catalog() + ".properties")) {
          Files.writeString(
              copy, metastoreLines(config.catalog()), UTF_8, StandardOpenOption.APPEND);
        }
      }
    }
  }

  /**
   * The lake catalog's metastore: the stack's Hive Metastore over Thrift, or Trino's file metastore
   * in the lake's bucket. Values from the environment, so that a server started as before ({@link
   * #startAsBefore}) keeps them.
   */
  static String metastoreLines(CatalogConfig catalog) {
    return switch (catalog.type()) {
      case THRIFT ->
          String.join(
              "\n",
              "",
              "# From lake.catalog (type thrift): the shared Hive Metastore.",
              "hive.metastore=thrift",
              "hive.metastore.uri=${ENV:LAKE_CATALOG_METASTORE_URI}",
              "");
      case FILE ->
          String.join(
              "\n",
              "",
              "# From lake.catalog (type file): Trino's own metastore in the lake's bucket.",
              "hive.metastore=file",
              "hive.metastore.catalog.dir=s3://${ENV:LAKE_S3_BUCKET}/metastore",
              "");
    };
  }

  private static void write(Path file, String... lines) throws IOException {
    Files.writeString(
        file,
        "# Generated by the lambda-lake local stack.\n" + String.join("\n", lines) + "\n",
        UTF_8);
  }

  @Override
  protected List<Integer> ports() {
    return List.of(config.stack().trinoPort());
  }

  @Override
  protected List<String> command() {
    Path javaHome = JavaInstallations.forTrino(config.stack().trinoJavaHome());
    return List.of(
        installation().resolve("bin").resolve("launcher").toString(),
        "run",
        "--etc-dir",
        etc().toString(),
        "--data-dir",
        home().resolve("data").toString(),
        "--jvm-dir",
        javaHome.toString());
  }

  /** The catalog file reads these variables (Trino substitutes ${ENV:NAME}). */
  @Override
  protected Map<String, String> environment() {
    S3Config s3 = config.s3();
    Map<String, String> environment = new LinkedHashMap<>();
    environment.put("LAKE_S3_BUCKET", s3.bucket());
    environment.put("LAKE_S3_ENDPOINT", s3.endpoint().orElse(""));
    environment.put("LAKE_S3_REGION", s3.region());
    environment.put("LAKE_S3_ACCESS_KEY", s3.accessKey().orElse(""));
    environment.put("LAKE_S3_SECRET_KEY", s3.secretKey().orElse(""));
    environment.put("LAKE_CATALOG_METASTORE_URI", config.catalog().metastoreUri());
    environment.put(
        "JAVA_HOME", JavaInstallations.forTrino(config.stack().trinoJavaHome()).toString());
    return environment;
  }

  /** {@code SELECT 1}, then a read of the lake catalog's schemas (which reads its metastore). */
  @Override
  public void probe() throws Exception {
    Properties properties = new Properties();
    properties.setProperty("user", config.trino().user());
    try (Connection connection = DriverManager.getConnection(config.trino().url(), properties);
        Statement statement = connection.createStatement()) {
      try (ResultSet result = statement.executeQuery("SELECT 1")) {
        result.next();
      }
      try (ResultSet result =
          statement.executeQuery(
              "SELECT count(*) FROM "
                  + config.trino().catalog()
                  + ".information_schema.schemata")) {
        result.next();
      }
    }
  }
}
