package io.lambdalake.ingestion.cdc.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNoException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lambdalake.common.cdc.ChangeEnvelope.SourceName;
import io.lambdalake.common.cdc.SourcePosition.BinlogPosition;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BinlogContinuityTest {
  private static final SourceName ORDERS = new SourceName("shop", "orders");
  private static final Optional<BinlogPosition> APPLIED =
      Optional.of(BinlogPosition.parse("mariadb-bin.000120:4400", 0));

  @Test
  void theSameServerAndBinlogGoOnAcrossARollover() {
    BinlogContinuity continuity = new BinlogContinuity();
    assertThatNoException()
        .isThrownBy(
            () -> {
              continuity.check(ORDERS, APPLIED, Set.of("mariadb-bin"), Set.of(101L));
              continuity.check(ORDERS, APPLIED, Set.of("mariadb-bin"), Set.of(101L));
              continuity.check(ORDERS, Optional.empty(), Set.of("mariadb-bin"), Set.of(101L));
            });
  }

  @Test
  void anotherBinlogBasenameStopsWithWhatToDo() {
    assertThatThrownBy(
            () -> new BinlogContinuity().check(ORDERS, APPLIED, Set.of("mysql-bin"), Set.of(101L)))
        .isInstanceOfSatisfying(
            LakeException.class,
            e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.BINLOG_SOURCE_CHANGED))
        .hasMessageContaining("shop.orders")
        .hasMessageContaining("mysql-bin")
        .hasMessageContaining("mariadb-bin.000120:4400")
        .hasMessageContaining("resync");
  }

  @Test
  void anotherServerStopsWithWhatToDo() {
    BinlogContinuity continuity = new BinlogContinuity();
    continuity.check(ORDERS, APPLIED, Set.of("mariadb-bin"), Set.of(101L));
    assertThatThrownBy(() -> continuity.check(ORDERS, APPLIED, Set.of("mariadb-bin"), Set.of(202L)))
        .isInstanceOf(LakeException.class)
        .hasMessageContaining("server_id 202")
        .hasMessageContaining("server_id 101")
        .hasMessageContaining("resync");
    assertThatThrownBy(
            () ->
                new BinlogContinuity()
                    .check(ORDERS, APPLIED, Set.of("mariadb-bin"), Set.of(101L, 202L)))
        .isInstanceOf(LakeException.class)
        .hasMessageContaining("101, 202");
  }
}
