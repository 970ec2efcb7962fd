package io.lambdalake.common.cdc;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * What a change did to its row or document, or to its whole table, with a stable one-letter wire
 * code (as Debezium; {@code t} for a truncate as Debezium's, {@code x} for a dropped table).
 */
public enum ChangeOperation {
  /** A row inserted, or a document inserted. */
  CREATE("c"),
  /** A row updated (possibly its key), or a document updated or replaced. */
  UPDATE("u"),
  /** A row or document deleted. */
  DELETE("d"),
  /** A row read by a snapshot or bootstrap rather than changed: applied only where missing. */
  READ("r"),
  /** Every row of the table removed (TRUNCATE TABLE): no images, only the position. */
  TRUNCATE("t"),
  /** The table dropped (DROP TABLE): no images, only the position. */
  DROP("x");

  private final String code;

  ChangeOperation(String code) {
    this.code = requireNonNull(code, "code is null");
  }

  /** The stable wire code stored in the raw change tables: c, u, d, r, t or x. */
  public String code() {
    return code;
  }

  /** The operation of a wire code, when it names one. */
  public static Optional<ChangeOperation> fromCode(String code) {
    for (ChangeOperation operation : values()) {
      if (operation.code.equals(code)) {
        return Optional.of(operation);
      }
    }
    return Optional.empty();
  }
}
