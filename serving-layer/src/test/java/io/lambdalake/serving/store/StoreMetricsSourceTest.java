package io.lambdalake.serving.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.sql.SQLException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StoreMetricsSourceTest {
  @Test
  void readsADaysRevenueAtTheViewsScaleAsTrinoSumsIt() throws SQLException {
    // Spark's to_json of MAP<STRING, DECIMAL(28, 4)>, as the sync stores it.
    Map<String, BigDecimal> amounts =
        StoreMetricsSource.amounts("{\"EUR\":12.3400,\"USD\":0.0000,\"JPY\":1500,\"XXX\":null}");

    assertThat(amounts)
        .containsExactly(
            Map.entry("EUR", new BigDecimal("12.3400")),
            Map.entry("JPY", new BigDecimal("1500.0000")),
            Map.entry("USD", new BigDecimal("0.0000")));
    assertThat(StoreMetricsSource.amounts("{}")).isEmpty();
  }

  @Test
  void aValueThatIsNotAMapOfAmountsIsAnError() {
    assertThatThrownBy(() -> StoreMetricsSource.amounts("{\"EUR\":"))
        .isInstanceOf(SQLException.class)
        .hasMessageStartingWith("revenue is not a JSON map");
    assertThatThrownBy(() -> StoreMetricsSource.amounts("{\"EUR\":1.23456}"))
        .isInstanceOf(ArithmeticException.class);
  }

  @Test
  void everyTableHasItsKeyAmongItsColumnsAndComparesStringsAsTrino() {
    for (StoreTable table : StoreTable.values()) {
      assertThat(table.columns())
          .extracting(StoreTable.Column::name)
          .containsAll(table.keyColumns());
      assertThat(table.createStatement()).endsWith("COLLATE = utf8mb4_nopad_bin");
    }
    assertThat(StoreTable.SNAPSHOT_ORDER).containsExactlyInAnyOrder(StoreTable.values());
    assertThat(StoreTable.BATCH_EVENTS_HOURLY.createStatement())
        .isEqualTo(
            "CREATE TABLE IF NOT EXISTS batch_events_hourly (tracking_id VARCHAR(255) NOT NULL,"
                + " hour BIGINT NOT NULL, event_name VARCHAR(255) NOT NULL, events BIGINT NOT NULL,"
                + " users_sketch MEDIUMBLOB NOT NULL, value_sum DECIMAL(28, 4), valued_events"
                + " BIGINT NOT NULL, PRIMARY KEY (tracking_id, hour, event_name)) ENGINE = InnoDB"
                + " DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin");
  }
}
