package io.lambdalake.ingestion.cdc.internal;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.cdc.ChangeEnvelope.SourceName;
import io.lambdalake.common.cdc.SourcePosition.BinlogPosition;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Stops CDC when changes come from another binlog than the one already applied. Binlog positions
 * order the changes of one server's binlog only: after a failover to another server (another
 * server_id) or a change of {@code log_bin} (another basename), new changes may carry positions
 * below the recorded ones and would be skipped as replays. Nothing is applied then; the operator
 * resyncs the mirrors from a snapshot of the new server.
 *
 * <p>The basename is checked against each table's recorded position (state.cdc_positions, which
 * outlives a restart); the server_id against the first server this run saw, since the recorded
 * positions do not keep it.
 */
public final class BinlogContinuity {
  private Long serverId;

  /**
   * Checks one table's part of a batch.
   *
   * @param threshold the table's recorded position, if it has one
   * @param basenames the binlog basenames of the batch's changes to the table
   * @param serverIds the server_ids of the batch's changes to the table
   * @throws LakeException with {@link ErrorCode#BINLOG_SOURCE_CHANGED} on another binlog or server
   */
  public synchronized void check(
      SourceName table,
      Optional<BinlogPosition> threshold,
      Set<String> basenames,
      Set<Long> serverIds) {
    requireNonNull(table, "table is null");
    requireNonNull(threshold, "threshold is null");
    if (basenames.size() > 1 || serverIds.size() > 1) {
      throw changed(
          table,
          "one batch of its changes comes from several binlogs or servers (basenames "
              + String.join(", ", new TreeSet<>(basenames))
              + "; server_id "
              + new TreeSet<>(serverIds)
                  .stream().map(String::valueOf).collect(Collectors.joining(", "))
              + ")");
    }
    if (threshold.isPresent()
        && !basenames.isEmpty()
        && !basenames.contains(threshold.get().basename())) {
      throw changed(
          table,
          "its new changes come from binlog "
              + basenames.iterator().next()
              + ", but the changes applied so far (up to "
              + threshold.get().file()
              + ":"
              + threshold.get().position()
              + ") come from binlog "
              + threshold.get().basename());
    }
    if (serverIds.isEmpty()) {
      return;
    }
    long incoming = serverIds.iterator().next();
    if (serverId == null) {
      serverId = incoming;
    } else if (serverId != incoming) {
      throw changed(
          table,
          "its new changes come from server_id "
              + incoming
              + ", but this run applied changes from server_id "
              + serverId
              + " before");
    }
  }

  private static LakeException changed(SourceName table, String what) {
    return new LakeException(
        ErrorCode.BINLOG_SOURCE_CHANGED,
        "CDC of "
            + table.qualifiedName()
            + " stopped: "
            + what
            + ". Binlog positions of different servers or binlogs have no order, so the changes"
            + " cannot be applied safely. Stop `lake cdc`, resync the table's mirror from the new"
            + " server (`lake import-jdbc` snapshot, which records the new server's position), then"
            + " start `lake cdc` again.");
  }
}
