package io.lambdalake.common.cdc;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

/**
 * One change of one source row or document, whatever captured it (Maxwell, MongoDB change streams):
 * what happened, the images before and after, where it sits in the source's history and when the
 * source committed it. After Debezium's envelope.
 *
 * @param operation what the change did
 * @param source the database and table (or collection) it changed
 * @param before the full image before the change: present for updates and deletes
 * @param after the full image after the change: present for creates, updates and reads
 * @param position where the change sits in the source's history
 * @param committedAt when the source committed it
 */
public record ChangeEnvelope(
    ChangeOperation operation,
    SourceName source,
    Optional<Image> before,
    Optional<Image> after,
    SourcePosition position,
    Instant committedAt) {

  public ChangeEnvelope {
    requireNonNull(operation, "operation is null");
    requireNonNull(source, "source is null");
    requireNonNull(before, "before is null");
    requireNonNull(after, "after is null");
    requireNonNull(position, "position is null");
    requireNonNull(committedAt, "committedAt is null");
    switch (operation) {
      case CREATE, READ -> require(after.isPresent(), operation, "an after image");
      case UPDATE -> {
        require(before.isPresent(), operation, "a before image");
        require(after.isPresent(), operation, "an after image");
      }
      case DELETE -> require(before.isPresent(), operation, "a before image");
      case TRUNCATE, DROP -> {
        if (before.isPresent() || after.isPresent()) {
          throw new IllegalArgumentException(operation + " change of a whole table has no images");
        }
      }
    }
  }

  private static void require(boolean condition, ChangeOperation operation, String what) {
    if (!condition) {
      throw new IllegalArgumentException(operation + " change without " + what);
    }
  }

  /** A source table (MySQL) or collection (MongoDB), named by its database. */
  public record SourceName(String database, String table) {
    public SourceName {
      requireNonNull(database, "database is null");
      requireNonNull(table, "table is null");
      if (database.isBlank() || table.isBlank()) {
        throw new IllegalArgumentException("database and table must not be blank");
      }
    }

    /** {@code <database>.<table>}, as state.snapshot_positions names a source table. */
    public String qualifiedName() {
      return database + "." + table;
    }

    /** The mirror table's name in the mirror zone: {@code <database>__<table>}, lower case. */
    public String mirrorTableName() {
      return (database + "__" + table).toLowerCase(Locale.ROOT);
    }
  }

  /**
   * A row or document image as a JSON object text whose values are exactly as the source wrote them
   * (numbers keep every digit).
   */
  public record Image(String json) {
    public Image {
      requireNonNull(json, "json is null");
      if (!json.startsWith("{")) {
        throw new IllegalArgumentException("an image is a JSON object, not: " + json);
      }
    }
  }
}
