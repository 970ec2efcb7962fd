package io.lambdalake.common.cdc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lambdalake.common.cdc.SourcePosition.BinlogPosition;
import io.lambdalake.common.cdc.SourcePosition.ClusterTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SourcePositionTest {
  @Test
  void binlogPositionsSortByFileThenOffsetThenRowInTransaction() {
    List<BinlogPosition> positions =
        new ArrayList<>(
            List.of(
                BinlogPosition.parse("mariadb-bin.000010:4", 0),
                BinlogPosition.parse("mariadb-bin.000002:900", BinlogPosition.LAST_IN_TRANSACTION),
                BinlogPosition.parse("mariadb-bin.000002:900", 1),
                BinlogPosition.parse("mariadb-bin.000002:1200", 0),
                BinlogPosition.parse("mariadb-bin.000002:900", 0)));
    positions.sort(null);
    assertThat(positions)
        .containsExactly(
            new BinlogPosition("mariadb-bin.000002", 900, 0),
            new BinlogPosition("mariadb-bin.000002", 900, 1),
            new BinlogPosition("mariadb-bin.000002", 900, Long.MAX_VALUE),
            new BinlogPosition("mariadb-bin.000002", 1200, 0),
            new BinlogPosition("mariadb-bin.000010", 4, 0));
  }

  @Test
  void binlogFilesSortByTheirNumberPastSixDigits() {
    BinlogPosition last = BinlogPosition.parse("mariadb-bin.999999:900", 0);
    BinlogPosition next = BinlogPosition.parse("mariadb-bin.1000000:4", 0);
    assertThat(next.basename()).isEqualTo("mariadb-bin");
    assertThat(next.sequence()).isEqualTo(1_000_000);
    assertThat(last).isLessThan(next);
    assertThat(BinlogPosition.parse("mariadb-bin.000010:4", 0))
        .isGreaterThan(BinlogPosition.parse("mariadb-bin.9:4", 0));
  }

  @Test
  void positionsOfAnotherBinlogCannotBeOrdered() {
    BinlogPosition ours = BinlogPosition.parse("mariadb-bin.000002:900", 0);
    BinlogPosition theirs = BinlogPosition.parse("mysql-bin.000003:4", 0);
    assertThat(ours.sameLog(theirs)).isFalse();
    assertThat(ours.sameLog(BinlogPosition.parse("mariadb-bin.000009:4", 0))).isTrue();
    assertThatThrownBy(() -> ours.compareTo(theirs))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("mariadb-bin.000002")
        .hasMessageContaining("mysql-bin.000003")
        .hasMessageContaining("different binlogs");
  }

  @Test
  void badBinlogPositionsSayWhatIsWrong() {
    assertThatThrownBy(() -> BinlogPosition.parse("mariadb-bin.000002", 0))
        .hasMessageContaining("not <file>:<offset>: mariadb-bin.000002");
    assertThatThrownBy(() -> BinlogPosition.parse("mariadb-bin.000002:x1", 0))
        .hasMessageContaining("not a number: mariadb-bin.000002:x1");
    assertThatThrownBy(() -> new BinlogPosition("mariadb-bin.000001", 1, -2))
        .hasMessageContaining("-2");
    assertThatThrownBy(() -> new BinlogPosition("mariadb-bin", 1, 0))
        .hasMessageContaining("not <basename>.<number>: mariadb-bin");
  }

  @Test
  void clusterTimesOfOneTransactionSortByResumeToken() {
    ClusterTime first = new ClusterTime(100, 1, "8265A01");
    ClusterTime second = new ClusterTime(100, 1, "8265A02");
    ClusterTime later = new ClusterTime(100, 2, "8265A00");
    assertThat(first).isLessThan(second);
    assertThat(second).isLessThan(later);
  }

  @Test
  void envelopesRequireTheImagesTheirOperationHas() {
    ChangeEnvelope.SourceName source = new ChangeEnvelope.SourceName("shop", "orders");
    SourcePosition position = new BinlogPosition("mariadb-bin.000001", 4, 0);
    assertThatThrownBy(
            () ->
                new ChangeEnvelope(
                    ChangeOperation.UPDATE,
                    source,
                    Optional.empty(),
                    Optional.of(new ChangeEnvelope.Image("{}")),
                    position,
                    Instant.EPOCH))
        .hasMessage("UPDATE change without a before image");
    assertThat(source.mirrorTableName()).isEqualTo("shop__orders");
    assertThat(ChangeOperation.fromCode("d")).contains(ChangeOperation.DELETE);
    assertThat(ChangeOperation.fromCode("t")).contains(ChangeOperation.TRUNCATE);
    assertThat(ChangeOperation.fromCode("x")).contains(ChangeOperation.DROP);
    assertThat(ChangeOperation.fromCode("z")).isEmpty();
    assertThatThrownBy(
            () ->
                new ChangeEnvelope(
                    ChangeOperation.TRUNCATE,
                    source,
                    Optional.empty(),
                    Optional.of(new ChangeEnvelope.Image("{}")),
                    position,
                    Instant.EPOCH))
        .hasMessage("TRUNCATE change of a whole table has no images");
  }
}
