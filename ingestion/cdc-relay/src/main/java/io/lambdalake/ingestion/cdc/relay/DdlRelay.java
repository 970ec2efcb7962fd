package io.lambdalake.ingestion.cdc.relay;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.shyiko.mysql.binlog.BinaryLogClient;
import com.github.shyiko.mysql.binlog.event.Event;
import com.github.shyiko.mysql.binlog.event.EventHeaderV4;
import com.github.shyiko.mysql.binlog.event.EventType;
import com.github.shyiko.mysql.binlog.event.QueryEventData;
import com.github.shyiko.mysql.binlog.event.deserialization.EventDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.NullEventDataDeserializer;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.kafka.KafkaClientProperties;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the source's binlog beside Maxwell, as a replica of its own, and publishes the DDL that
 * Maxwell leaves out of the table topics: each {@code TRUNCATE}, {@code DROP TABLE}, rename and
 * {@code ALTER TABLE} (the kinds of {@link #PUBLISHED}) becomes one record in Maxwell's format
 * (database, table, type, ts, position, server_id, sql) in the table's own topic {@code
 * cdc.maxwell.<db>.<table>}, so the CDC job reads it in the same stream as the rows and orders both
 * by binlog position.
 *
 * <p>The relay remembers the binlog position after the last statement it published in a file and
 * resumes there. A crash between publishing and remembering publishes the statement again, which
 * the CDC job applies idempotently. Without a file it starts at the source's current position.
 */
public final class DdlRelay implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(DdlRelay.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> SYSTEM_DATABASES =
      Set.of("mysql", "information_schema", "performance_schema", "sys");
  private static final Duration SEND_TIMEOUT = Duration.ofSeconds(60);

  /**
   * What the relay publishes: what the CDC job applies or records ({@code table-alter}: the job
   * follows column changes from the row changes themselves, the record says when and how in
   * raw.mysql_changes). {@code CREATE TABLE} is parsed, not published: a record the job only logs
   * would change the counts of everything that reads the topics.
   */
  static final Set<DdlStatement.Kind> PUBLISHED =
      EnumSet.of(
          DdlStatement.Kind.TRUNCATE,
          DdlStatement.Kind.DROP,
          DdlStatement.Kind.RENAME,
          DdlStatement.Kind.ALTER);

  /**
   * @param databases the databases whose DDL is published (a regex over the whole name, as {@code
   *     lake cdc --databases})
   * @param positionFile where the relay remembers its binlog position
   */
  public record Options(Pattern databases, Path positionFile) {
    public Options {
      requireNonNull(databases, "databases is null");
      requireNonNull(positionFile, "positionFile is null");
    }
  }

  private final LakeConfig config;
  private final Options options;
  private final BinaryLogClient client;
  private final KafkaProducer<byte[], byte[]> producer;
  private volatile RuntimeException failure;

  public DdlRelay(LakeConfig config, Options options) {
    this.config = requireNonNull(config, "config is null");
    this.options = requireNonNull(options, "options is null");
    this.client =
        new BinaryLogClient(
            config.mariaDb().host(),
            config.mariaDb().port(),
            config.maxwell().user(),
            config.maxwell().password());
    client.setServerId(config.maxwell().ddlRelayServerId());
    client.setKeepAlive(true);
    // Only query events matter: row events are skipped unread.
    EventDeserializer deserializer = new EventDeserializer();
    for (EventType type :
        List.of(
            EventType.TABLE_MAP,
            EventType.WRITE_ROWS,
            EventType.UPDATE_ROWS,
            EventType.DELETE_ROWS,
            EventType.EXT_WRITE_ROWS,
            EventType.EXT_UPDATE_ROWS,
            EventType.EXT_DELETE_ROWS,
            EventType.PRE_GA_WRITE_ROWS,
            EventType.PRE_GA_UPDATE_ROWS,
            EventType.PRE_GA_DELETE_ROWS)) {
      deserializer.setEventDataDeserializer(type, new NullEventDataDeserializer());
    }
    client.setEventDeserializer(deserializer);
    client.registerEventListener(this::onEvent);
    this.producer =
        new KafkaProducer<>(KafkaClientProperties.producer(config.kafka(), "lake-ddl-relay"));
  }

  /** Connects and follows the binlog on a thread of its own, from the remembered position. */
  public void start(Duration timeout) {
    Optional<String[]> remembered = readPosition();
    if (remembered.isPresent()) {
      client.setBinlogFilename(remembered.get()[0]);
      client.setBinlogPosition(Long.parseLong(remembered.get()[1]));
    }
    try {
      client.connect(timeout.toMillis());
    } catch (IOException | TimeoutException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "The DDL relay cannot read the binlog of "
              + config.mariaDb().host()
              + ":"
              + config.mariaDb().port()
              + " as replica "
              + config.maxwell().ddlRelayServerId()
              + ": "
              + e.getMessage()
              + ". Check that MariaDB runs and that the account "
              + config.maxwell().user()
              + " has REPLICATION SLAVE and REPLICATION CLIENT",
          e);
    }
    // Remembered at once: a restart resumes here, not at the then current position.
    writePosition(client.getBinlogFilename(), client.getBinlogPosition());
    LOG.info(
        "DDL relay following {}:{} from {}:{}",
        config.mariaDb().host(),
        config.mariaDb().port(),
        client.getBinlogFilename(),
        client.getBinlogPosition());
  }

  /**
   * Runs a relay until the JVM is asked to stop (SIGTERM, Ctrl-C) or the relay fails, which ends in
   * a {@link LakeException} that says why.
   */
  public static void runUntilStopped(LakeConfig config, Options options) {
    DdlRelay relay = new DdlRelay(config, options);
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook = new Thread(stopped::countDown, "ddl-relay-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try (relay) {
      relay.start(Duration.ofSeconds(30));
      while (!stopped.await(1, TimeUnit.SECONDS)) {
        if (relay.failure().isPresent()) {
          throw relay.failure().get();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The relay as a process of its own (the local stack's {@code ddl-relay} server): {@code
   * --position-file <path>} and optionally {@code --databases <regex>}; configuration from conf/.
   */
  public static void main(String[] args) {
    Path positionFile = null;
    String databases = ".*";
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--position-file" -> positionFile = Path.of(args[i + 1]);
        case "--databases" -> databases = args[i + 1];
        default -> {
          System.err.println("ddl-relay: unknown option " + args[i]);
          System.exit(2);
        }
      }
    }
    if (positionFile == null) {
      System.err.println("ddl-relay: --position-file <path> is required");
      System.exit(2);
    }
    try {
      runUntilStopped(
          LakeConfigLoader.load(), new Options(Pattern.compile(databases), positionFile));
    } catch (LakeException e) {
      System.err.println("ddl-relay: " + e.getMessage());
      System.exit(1);
    }
  }

  /** Why the relay stopped publishing, if it did: it then stops reading too. */
  public Optional<RuntimeException> failure() {
    return Optional.ofNullable(failure);
  }

  /** Whether the relay is connected and has not failed. */
  public boolean running() {
    return failure == null && client.isConnected();
  }

  private void onEvent(Event event) {
    if (failure != null || event.getHeader().getEventType() != EventType.QUERY) {
      return;
    }
    QueryEventData query = event.getData();
    EventHeaderV4 header = event.getHeader();
    List<DdlStatement> statements = DdlStatement.parse(query.getSql(), query.getDatabase());
    if (statements.isEmpty()) {
      return;
    }
    String position = client.getBinlogFilename() + ":" + header.getNextPosition();
    try {
      for (int order = 0; order < statements.size(); order++) {
        DdlStatement statement = statements.get(order);
        if (PUBLISHED.contains(statement.kind()) && follows(statement.database())) {
          publish(statement, order, query.getSql(), position, header);
        }
      }
      writePosition(client.getBinlogFilename(), header.getNextPosition());
    } catch (RuntimeException e) {
      failure = e;
      LOG.error("DDL relay stopped at {}: {}", position, e.getMessage(), e);
      // Not on the client's own thread, which disconnect() waits for.
      Thread stopper = new Thread(this::disconnect, "ddl-relay-stop");
      stopper.setDaemon(true);
      stopper.start();
    }
  }

  private boolean follows(String database) {
    return !SYSTEM_DATABASES.contains(database.toLowerCase(Locale.ROOT))
        && !database.equalsIgnoreCase(config.maxwell().schemaDatabase())
        && options.databases().matcher(database).matches();
  }

  /**
   * @param order the statement's place among the tables its SQL touches: the renames of one {@code
   *     RENAME TABLE} share its position, and the CDC job applies them in this order
   */
  private void publish(
      DdlStatement statement, int order, String sql, String position, EventHeaderV4 header) {
    ObjectNode record = JSON.createObjectNode();
    record.put("database", statement.database());
    record.put("table", statement.table());
    record.put("type", statement.kind().type());
    record.put("ts", header.getTimestamp() / 1000);
    record.put("position", position);
    record.put("server_id", header.getServerId());
    statement
        .renamedTo()
        .ifPresent(
            target -> {
              record.put("new_database", target.database());
              record.put("new_table", target.table());
              // Also as data, which raw.mysql_changes keeps: a resync replays the rename from it.
              ObjectNode data = record.putObject("data");
              data.put("database", target.database());
              data.put("table", target.table());
              data.put("order", order);
            });
    record.put("sql", sql);
    ObjectNode key = JSON.createObjectNode();
    key.put("database", statement.database());
    key.put("table", statement.table());
    String topic = config.topics().maxwellTopic(statement.database(), statement.table());
    try {
      producer
          .send(
              new ProducerRecord<>(
                  topic,
                  maxwellPartition(statement.database(), producer.partitionsFor(topic).size()),
                  key.toString().getBytes(UTF_8),
                  record.toString().getBytes(UTF_8)))
          .get(SEND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LakeException(ErrorCode.INTERNAL_ERROR, "Interrupted while publishing DDL", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "The DDL relay could not publish "
              + statement.kind().type()
              + " of "
              + statement.database()
              + "."
              + statement.table()
              + " at "
              + position
              + " to Kafka topic "
              + topic
              + ": "
              + e.getMessage()
              + ". Restart the relay once Kafka answers; it resumes at this statement",
          e);
    }
    LOG.info(
        "DDL relay: {} of {}.{} at {}",
        statement.kind().type(),
        statement.database(),
        statement.table(),
        position);
  }

  private Optional<String[]> readPosition() {
    Path file = options.positionFile();
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    try {
      String text = Files.readString(file, UTF_8).strip();
      int colon = text.lastIndexOf(':');
      if (colon <= 0) {
        throw new LakeException(
            ErrorCode.INVALID_CONFIGURATION,
            "The DDL relay's position file "
                + file
                + " does not hold <binlog file>:<position> but '"
                + text
                + "'; delete it to start at the source's current position");
      }
      return Optional.of(new String[] {text.substring(0, colon), text.substring(colon + 1)});
    } catch (IOException e) {
      throw new LakeException(
          ErrorCode.INTERNAL_ERROR, "Cannot read the DDL relay's position file " + file, e);
    }
  }

  private void writePosition(String binlogFile, long position) {
    Path file = options.positionFile();
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
      Files.writeString(temporary, binlogFile + ":" + position + "\n", UTF_8);
      Files.move(
          temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new LakeException(
          ErrorCode.INTERNAL_ERROR, "Cannot write the DDL relay's position file " + file, e);
    }
  }

  private void disconnect() {
    try {
      client.disconnect();
    } catch (IOException e) {
      LOG.warn("DDL relay: disconnecting from the binlog failed: {}", e.getMessage());
    }
  }

  /**
   * The partition Maxwell 1.22 puts a database's rows into with {@code
   * producer_partition_by=database} and its default hash ({@code MaxwellKafkaPartitioner}: the
   * absolute value of the database name's {@link String#hashCode()} modulo the topic's partitions).
   * The relay's records go there too, so that Kafka keeps them in order with the table's rows: in
   * another partition a job behind by more than one micro-batch reads a DDL record in its next
   * batch, before rows written ahead of it that wait in Maxwell's partition (Spark limits each
   * batch per partition).
   */
  static int maxwellPartition(String database, int partitions) {
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be positive: " + partitions);
    }
    return Math.abs(database.hashCode() % partitions);
  }

  @Override
  public void close() {
    disconnect();
    producer.close(Duration.ofSeconds(10));
  }
}
