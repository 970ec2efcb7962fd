package io.lambdalake.stack;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.S3Config;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A standalone Hive Metastore 3.1 (Thrift) with its schema in a database of the stack's MariaDB and
 * S3A pointed at the stack's S3: the catalog that Spark jobs register their tables in and Trino's
 * Delta catalog reads when {@code lake.catalog.type} is {@code thrift} (docs/design.md, "A shared
 * catalog"). Its distribution is the metastore's binary tarball unpacked by scripts/stack, plus a
 * resolved class path (Hadoop's shaded client, S3A, the AWS SDK modules and the MariaDB driver).
 */
public final class MetastoreServer extends ManagedServer {
  public static final String NAME = "metastore";
  public static final String DISTRIBUTION = "hive-metastore";

  /** The metastore's service on 127.0.0.1 only (servers/metastore): its own main binds to all. */
  private static final String MAIN_CLASS = "io.lambdalake.servers.metastore.LoopbackMetastore";

  private static final String SCHEMA_TOOL =
      "org.apache.hadoop.hive.metastore.tools.MetastoreSchemaTool";
  private static final int SOCKET_TIMEOUT_MILLIS = 5_000;
  private final LakeConfig config;
  private final StackLayout layout;

  public MetastoreServer(LakeConfig config, StackLayout layout) {
    super(NAME, layout);
    this.config = config;
    this.layout = layout;
  }

  @Override
  public String address() {
    return "thrift://127.0.0.1:" + config.stack().metastorePort();
  }

  private Path installation() {
    Path installation = layout.distribution(DISTRIBUTION);
    if (!Files.isDirectory(installation.resolve("lib"))
        || !Files.isDirectory(installation.resolve("scripts"))) {
      throw StackLayout.missingDistribution(NAME, installation);
    }
    return installation;
  }

  private Path configurationDirectory() {
    return home().resolve("conf");
  }

  /** The site file and the log configuration first, then our class path, then the tarball's. */
  private String classPath() throws IOException {
    List<String> entries = new ArrayList<>();
    entries.add(configurationDirectory().toString());
    entries.add(layout.classPath(NAME));
    try (Stream<Path> jars = Files.list(installation().resolve("lib"))) {
      jars.filter(jar -> jar.getFileName().toString().endsWith(".jar"))
          .sorted()
          .forEach(jar -> entries.add(jar.toString()));
    }
    return String.join(":", entries);
  }

  private String jdbcUrl() {
    // useMysqlMetadata: the driver calls itself MySQL, the product DataNucleus 4 has an adapter
    // for (it falls back to a generic SQL adapter for "MariaDB").
    return config.mariaDb().jdbcUrl(config.stack().metastoreDatabase()) + "?useMysqlMetadata=true";
  }

  @Override
  protected void prepare() throws IOException {
    installation();
    Path conf = configurationDirectory();
    Files.createDirectories(conf);
    writeSecret(conf.resolve("metastore-site.xml"), siteFile());
    Files.writeString(conf.resolve("log4j2.properties"), logConfiguration(), UTF_8);
    initializeSchema();
  }

  private String siteFile() {
    S3Config s3 = config.s3();
    Map<String, String> properties = new LinkedHashMap<>();
    properties.put("javax.jdo.option.ConnectionURL", jdbcUrl());
    properties.put("javax.jdo.option.ConnectionDriverName", "org.mariadb.jdbc.Driver");
    properties.put("javax.jdo.option.ConnectionUserName", config.mariaDb().user());
    properties.put("javax.jdo.option.ConnectionPassword", config.mariaDb().password());
    properties.put("metastore.thrift.port", Integer.toString(config.stack().metastorePort()));
    // The schema comes from schematool (prepare); the server checks its version and never alters
    // it.
    properties.put("metastore.schema.verification", "true");
    properties.put("datanucleus.schema.autoCreateAll", "false");
    // Databases without a location of their own go under the lake's root.
    properties.put("metastore.warehouse.dir", config.storage().root());
    // Without Hive's query engine on the class path: partition filters are evaluated here.
    properties.put(
        "metastore.expression.proxy",
        "org.apache.hadoop.hive.metastore.DefaultPartitionExpressionProxy");
    properties.put(
        "metastore.task.threads.always",
        "org.apache.hadoop.hive.metastore.events.EventCleanerTask");
    // Asynchronous logging needs the LMAX disruptor, which the tarball does not bundle.
    properties.put("metastore.async.log.enabled", "false");
    // A small machine: the Thrift pool starts at 200 threads by default.
    properties.put("metastore.server.min.threads", "8");
    // Spark writes s3a:// locations, Trino s3://: both are S3A here.
    properties.put("fs.s3a.impl", "org.apache.hadoop.fs.s3a.S3AFileSystem");
    properties.put("fs.s3.impl", "org.apache.hadoop.fs.s3a.S3AFileSystem");
    s3.endpoint()
        .ifPresent(
            endpoint -> {
              properties.put("fs.s3a.endpoint", endpoint);
              properties.put(
                  "fs.s3a.connection.ssl.enabled", Boolean.toString(endpoint.startsWith("https")));
            });
    properties.put("fs.s3a.endpoint.region", s3.region());
    properties.put("fs.s3a.path.style.access", Boolean.toString(s3.pathStyleAccess()));
    if (s3.accessKey().isPresent() && s3.secretKey().isPresent()) {
      properties.put("fs.s3a.access.key", s3.accessKey().get());
      properties.put("fs.s3a.secret.key", s3.secretKey().get());
      properties.put(
          "fs.s3a.aws.credentials.provider",
          "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
    }
    properties.put("fs.s3a.checksum.validation", "false");
    properties.put("hadoop.tmp.dir", home().resolve("hadoop").toString());
    properties.put("fs.s3a.buffer.dir", home().resolve("s3a-buffer").toString());
    StringBuilder xml = new StringBuilder();
    xml.append("<?xml version=\"1.0\"?>\n")
        .append("<!-- Generated by the lambda-lake local stack from conf/application.conf. -->\n")
        .append("<configuration>\n");
    properties.forEach(
        (name, value) ->
            xml.append("  <property><name>")
                .append(escape(name))
                .append("</name><value>")
                .append(escape(value))
                .append("</value></property>\n"));
    return xml.append("</configuration>\n").toString();
  }

  private static String logConfiguration() {
    return String.join(
        "\n",
        "# Generated by the lambda-lake local stack: the metastore logs to its standard output.",
        "status = WARN",
        "appender.console.type = Console",
        "appender.console.name = console",
        "appender.console.layout.type = PatternLayout",
        "appender.console.layout.pattern = %d{ISO8601} %-5p [%t] %c{2}: %m%n",
        "rootLogger.level = INFO",
        "rootLogger.appenderRef.console.ref = console",
        "logger.datanucleus.name = DataNucleus",
        "logger.datanucleus.level = WARN",
        "# One audit line per call: only its warnings.",
        "logger.audit.name = HiveMetaStore.audit",
        "logger.audit.level = WARN",
        "");
  }

  private static String escape(String value) {
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }

  private static void writeSecret(Path file, String content) throws IOException {
    Files.writeString(file, content, UTF_8);
    // It holds the stack's S3 keys and the MariaDB password.
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
  }

  /**
   * Creates the metastore's database in MariaDB and its schema with the metastore's schematool,
   * unless the schema is there (its {@code VERSION} table).
   */
  private void initializeSchema() throws IOException {
    if (schemaExists()) {
      return;
    }
    List<String> command =
        List.of(
            javaExecutable(),
            "-Xmx256m",
            "-cp",
            classPath(),
            SCHEMA_TOOL,
            "-initSchema",
            "-dbType",
            "mysql");
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(home().toFile())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile().toFile()));
    builder.environment().putAll(environment());
    Process process = builder.start();
    try {
      if (!process.waitFor(300, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IOException("metastore: schematool timed out; see " + logFile());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while creating the metastore's schema", e);
    }
    if (process.exitValue() != 0) {
      throw new IOException(
          "metastore: schematool -initSchema failed (exit "
              + process.exitValue()
              + "); see "
              + logFile());
    }
  }

  private boolean schemaExists() throws IOException {
    String database = config.stack().metastoreDatabase();
    try (Connection connection =
            DriverManager.getConnection(
                config.mariaDb().jdbcUrl(""),
                config.mariaDb().user(),
                config.mariaDb().password());
        Statement statement = connection.createStatement()) {
      statement.execute("CREATE DATABASE IF NOT EXISTS `" + database + "`");
      try (ResultSet tables =
          connection.getMetaData().getTables(database, null, "VERSION", new String[] {"TABLE"})) {
        return tables.next();
      }
    } catch (SQLException e) {
      throw new IOException(
          "metastore: cannot reach MariaDB at "
              + config.mariaDb().host()
              + ":"
              + config.mariaDb().port()
              + " for its database "
              + database
              + " (start mariadb first): "
              + e.getMessage(),
          e);
    }
  }

  @Override
  protected List<Integer> ports() {
    return List.of(config.stack().metastorePort());
  }

  @Override
  protected List<String> command() {
    try {
      return List.of(javaExecutable(), "-Xmx512m", "-cp", classPath(), MAIN_CLASS);
    } catch (IOException e) {
      throw new LakeException(
          ErrorCode.SERVER_DISTRIBUTION_MISSING,
          "The metastore's distribution cannot be read: " + e.getMessage(),
          e);
    }
  }

  @Override
  protected Map<String, String> environment() {
    // schematool finds its SQL scripts under $METASTORE_HOME/scripts.
    return Map.of("METASTORE_HOME", installation().toString());
  }

  /**
   * A real Thrift call, {@code get_all_databases} in Thrift's binary protocol on a plain socket as
   * the metastore serves it: the answer must be a reply that lists the {@code default} database,
   * which the metastore creates in MariaDB when it starts.
   */
  @Override
  public void probe() throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(
          new InetSocketAddress("127.0.0.1", config.stack().metastorePort()),
          SOCKET_TIMEOUT_MILLIS);
      socket.setSoTimeout(SOCKET_TIMEOUT_MILLIS);
      DataOutputStream out = new DataOutputStream(socket.getOutputStream());
      DataInputStream in = new DataInputStream(socket.getInputStream());
      List<String> databases = ThriftProbe.getAllDatabases(out, in);
      if (!databases.contains("default")) {
        throw new IOException("the metastore lists no default database: " + databases);
      }
    }
  }
}
