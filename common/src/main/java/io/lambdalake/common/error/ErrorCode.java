package io.lambdalake.common.error;

import static java.util.Objects.requireNonNull;

/** Every error lambda-lake reports, with a stable numeric code and the type of fault. */
public enum ErrorCode {
  INVALID_CONFIGURATION(1, ErrorType.USER_ERROR),
  INVALID_ARGUMENT(2, ErrorType.USER_ERROR),
  INVALID_EVENT(3, ErrorType.USER_ERROR),
  SERVER_NOT_AVAILABLE(100, ErrorType.EXTERNAL),
  SERVER_FAILED_TO_START(101, ErrorType.EXTERNAL),
  SERVER_DISTRIBUTION_MISSING(102, ErrorType.EXTERNAL),
  STREAMING_QUERY_FAILED(103, ErrorType.EXTERNAL),
  /**
   * A streaming checkpoint has read further than its Kafka topics now hold: Kafka's data was reset
   * while the lake's storage was kept.
   */
  CHECKPOINT_AHEAD_OF_SOURCE(104, ErrorType.EXTERNAL),
  ORCHESTRATION_CONFLICT(111, ErrorType.USER_ERROR),
  /**
   * CDC changes come from another MySQL/MariaDB server (server_id) or binlog (basename) than the
   * ones already applied: their positions cannot be ordered against the recorded ones, so the
   * mirrors must be resynced from a snapshot before CDC goes on.
   */
  BINLOG_SOURCE_CHANGED(122, ErrorType.USER_ERROR),
  /**
   * The shared catalog already gives a table's name to a Delta table at another location: another
   * copy of the lake shares the metastore without a schema prefix of its own, or the lake's root
   * moved. Trino would read the other table under that name.
   */
  CATALOG_NAME_TAKEN(123, ErrorType.USER_ERROR),
  ORCHESTRATION_RUN_FAILED(112, ErrorType.EXTERNAL),
  /**
   * Another writer holds the lease of the tables this job writes (e.g. a nightly batch while a
   * backfill runs): retry once it has finished.
   */
  LEASE_HELD(120, ErrorType.EXTERNAL),
  /** This job's lease was taken over (it stalled past its expiry): it stopped before committing. */
  LEASE_LOST(121, ErrorType.EXTERNAL),
  INTERNAL_ERROR(500, ErrorType.INTERNAL),
  /** A job's output failed a data-quality check: a defect in its logic, nothing was published. */
  QUALITY_CHECK_FAILED(501, ErrorType.INTERNAL);

  private final int code;
  private final ErrorType type;

  ErrorCode(int code, ErrorType type) {
    this.code = code;
    this.type = requireNonNull(type, "type is null");
  }

  public int code() {
    return code;
  }

  public ErrorType type() {
    return type;
  }
}
