package io.lambdalake.serving;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.kafka.KafkaClientProperties;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Row changes of source tables written the way Maxwell's Daemon writes them (its JSON, its Kafka
 * key, one topic per table, a transaction's rows at one binlog position with xoffsets and the last
 * one committing), and beside them, in plain Java, the state of every table after each change: the
 * independent computation the history is checked against.
 */
final class MaxwellScript {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String NULL = "<null>";

  /** A source table: its columns in order and its primary key. */
  record Table(String name, List<String> columns, List<String> primaryKey) {
    Table {
      requireNonNull(name, "name is null");
      columns = List.copyOf(columns);
      primaryKey = List.copyOf(primaryKey);
    }
  }

  /** One change as Maxwell sends it. */
  private record Change(
      Table table,
      String type,
      Map<String, Object> data,
      Map<String, Object> old,
      Instant time,
      long position,
      int xoffset,
      boolean last,
      boolean applicable) {}

  /** A row of the model: its values and the binlog position of its newest change. */
  private record ModelRow(Map<String, Object> values, long position) {}

  private final String database;
  private final String binlogFile;
  private final List<Change> changes = new ArrayList<>();
  private final List<Change> transaction = new ArrayList<>();
  private long position = 4;
  private Instant time;

  MaxwellScript(String database, String binlogFile, Instant start) {
    this.database = requireNonNull(database, "database is null");
    this.binlogFile = requireNonNull(binlogFile, "binlogFile is null");
    this.time = requireNonNull(start, "start is null");
  }

  /** Moves the clock of the next transactions. */
  MaxwellScript at(Instant next) {
    this.time = next;
    return this;
  }

  MaxwellScript insert(Table table, Map<String, Object> row) {
    return add(table, "insert", row, Map.of(), true);
  }

  /** An update: the row's after image, and the previous values of what changed. */
  MaxwellScript update(Table table, Map<String, Object> after, Map<String, Object> old) {
    return add(table, "update", after, old, true);
  }

  MaxwellScript delete(Table table, Map<String, Object> row) {
    return add(table, "delete", row, Map.of(), true);
  }

  /** A change the lake cannot apply (a value its column cannot hold): CDC quarantines it. */
  MaxwellScript unappliable(Table table, Map<String, Object> after, Map<String, Object> old) {
    return add(table, "update", after, old, false);
  }

  private MaxwellScript add(
      Table table,
      String type,
      Map<String, Object> data,
      Map<String, Object> old,
      boolean applicable) {
    transaction.add(
        new Change(
            table,
            type,
            new LinkedHashMap<>(data),
            new LinkedHashMap<>(old),
            time,
            position,
            transaction.size(),
            false,
            applicable));
    return this;
  }

  /** Commits the open transaction: its rows share a position; the last one commits. */
  MaxwellScript commit() {
    for (int index = 0; index < transaction.size(); index++) {
      Change change = transaction.get(index);
      changes.add(
          new Change(
              change.table(),
              change.type(),
              change.data(),
              change.old(),
              change.time(),
              change.position(),
              change.xoffset(),
              index == transaction.size() - 1,
              change.applicable()));
    }
    transaction.clear();
    position += 1_000;
    time = time.plusSeconds(60);
    return this;
  }

  /** Sends every committed change to its table's topic, in order, and waits until Kafka has it. */
  void send(LakeConfig config, int fromChange) throws Exception {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(KafkaClientProperties.producer(config.kafka(), "history-it"))) {
      for (Change change : changes.subList(fromChange, changes.size())) {
        producer.send(
            new ProducerRecord<>(
                config.topics().maxwellTopic(database, change.table().name()),
                key(change).getBytes(UTF_8),
                value(change).getBytes(UTF_8)));
      }
      producer.flush();
    }
  }

  int size() {
    return changes.size();
  }

  private String key(Change change) throws Exception {
    ObjectNode key = JSON.createObjectNode();
    key.put("database", database);
    key.put("table", change.table().name());
    for (String column : change.table().primaryKey()) {
      key.putPOJO("pk." + column, change.data().get(column));
    }
    return JSON.writeValueAsString(key);
  }

  private String value(Change change) throws Exception {
    ObjectNode value = JSON.createObjectNode();
    value.put("database", database);
    value.put("table", change.table().name());
    value.put("type", change.type());
    value.put("ts", change.time().getEpochSecond());
    value.put("xid", change.position());
    if (change.last()) {
      value.put("commit", true);
    } else {
      value.put("xoffset", change.xoffset());
    }
    value.put("position", binlogFile + ":" + change.position());
    value.put("server_id", 101);
    value.set("data", JSON.valueToTree(change.data()));
    if (change.type().equals("update")) {
      value.set("old", JSON.valueToTree(change.old()));
    }
    return JSON.writeValueAsString(value);
  }

  /**
   * The table's rows after every applicable change committed before the instant, applied one at a
   * time, as text: the columns (a column the image lacks shows its default, or NULL) and the binlog
   * position of the row's newest change, sorted.
   *
   * @param base rows present before the first change (a snapshot import), by key; every change of
   *     the script follows it (its binlog file sorts after the import's)
   */
  List<String> stateBefore(
      Table table,
      Instant end,
      List<String> columns,
      Map<String, Object> defaults,
      Map<List<Object>, Map<String, Object>> base,
      long basePosition) {
    Map<List<Object>, ModelRow> rows = new TreeMap<>(MaxwellScript::compareKeys);
    base.forEach((key, values) -> rows.put(key, new ModelRow(values, basePosition)));
    for (Change change : changes) {
      if (!change.table().equals(table) || !change.time().isBefore(end) || !change.applicable()) {
        continue;
      }
      switch (change.type()) {
        case "insert" -> rows.put(key(table, change.data()), row(change));
        case "update" -> {
          Map<String, Object> before = new LinkedHashMap<>(change.data());
          before.putAll(change.old());
          rows.remove(key(table, before));
          rows.put(key(table, change.data()), row(change));
        }
        case "delete" -> rows.remove(key(table, change.data()));
        default -> throw new IllegalStateException(change.type());
      }
    }
    List<String> texts = new ArrayList<>();
    for (ModelRow row : rows.values()) {
      List<String> values = new ArrayList<>();
      for (String column : columns) {
        Object value =
            row.values().containsKey(column) ? row.values().get(column) : defaults.get(column);
        values.add(text(value));
      }
      values.add(Long.toString(row.position()));
      texts.add(String.join("|", values));
    }
    texts.sort(null);
    return texts;
  }

  private static ModelRow row(Change change) {
    return new ModelRow(change.data(), change.position());
  }

  static String text(Object value) {
    if (value == null) {
      return NULL;
    }
    if (value instanceof BigDecimal decimal) {
      return decimal.toPlainString();
    }
    return value.toString();
  }

  private static List<Object> key(Table table, Map<String, Object> image) {
    List<Object> key = new ArrayList<>();
    for (String column : table.primaryKey()) {
      key.add(image.get(column));
    }
    return key;
  }

  private static int compareKeys(List<Object> one, List<Object> other) {
    return one.toString().compareTo(other.toString());
  }
}
