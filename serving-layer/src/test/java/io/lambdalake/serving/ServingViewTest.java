package io.lambdalake.serving;

import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.common.config.TrinoConfig;
import io.lambdalake.common.table.LakeTable;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

class ServingViewTest {
  private static final TrinoConfig PREFIXED =
      new TrinoConfig("jdbc:trino://127.0.0.1:18080", "lake", "lake", "staging_");

  @Test
  void everyViewNamesTheSchemasOfTheConfiguration() {
    for (ServingView view : ServingView.values()) {
      String sql = view.sql(PREFIXED);
      assertThat(sql).as(view.viewName()).doesNotContain("${");
      for (LakeTable table : view.tables()) {
        assertThat(sql).contains("staging_" + table.zone() + "." + table.table());
      }
      assertThat(view.createStatement(PREFIXED))
          .startsWith("CREATE OR REPLACE VIEW staging_serving." + view.viewName() + " AS\n");
    }
    assertThat(ServingView.EVENTS_DAILY.sql(PREFIXED))
        .contains("FROM staging_serving.events_hourly");
    assertThat(ServingView.EVENTS_HOURLY.sql(new TrinoConfig("jdbc:trino://t:8080", "u", "lake")))
        .contains("FROM speed.events_hourly")
        .contains("FROM batch.coverage")
        .contains("FROM batch.events_hourly");
  }

  /**
   * Trino reads one snapshot per table and query, resolving WITH queries in order: speed first,
   * then the coverage, then batch is the order that keeps the merge exact while the watermark moves
   * (docs/serving.md). A view that reads them in another order may lose or double hours.
   */
  @Test
  void mergedViewsReadSpeedThenCoverageThenBatch() {
    assertReadOrder(
        ServingView.EVENTS_HOURLY,
        "staging_speed.events_hourly",
        "staging_batch.coverage",
        "staging_batch.events_hourly");
    assertReadOrder(
        ServingView.PAGES_HOURLY,
        "staging_speed.pages_hourly",
        "staging_batch.coverage",
        "staging_batch.pages_hourly");
    assertReadOrder(
        ServingView.SESSIONS_DAILY, "staging_batch.coverage", "staging_batch.events_daily");
    assertReadOrder(
        ServingView.TOP_PAGES_DAILY, "staging_batch.coverage", "staging_batch.pages_daily");
    assertReadOrder(
        ServingView.TRAFFIC_DAILY, "staging_batch.coverage", "staging_batch.traffic_daily");
  }

  @Test
  void viewsCarryEveryColumnOfTheirTables() {
    assertSelects(ServingView.EVENTS_HOURLY, "speed_rows", LakeTable.SPEED_EVENTS_HOURLY);
    assertSelects(ServingView.EVENTS_HOURLY, "batch_rows", LakeTable.BATCH_EVENTS_HOURLY);
    assertSelects(ServingView.PAGES_HOURLY, "speed_rows", LakeTable.SPEED_PAGES_HOURLY);
    assertSelects(ServingView.PAGES_HOURLY, "batch_rows", LakeTable.BATCH_PAGES_HOURLY);
    assertSelects(ServingView.SESSIONS_DAILY, "days", LakeTable.BATCH_EVENTS_DAILY);
    assertSelects(ServingView.TOP_PAGES_DAILY, "days", LakeTable.BATCH_PAGES_DAILY);
    assertSelects(ServingView.TRAFFIC_DAILY, "days", LakeTable.BATCH_TRAFFIC_DAILY);
  }

  @Test
  void rollUpsMergeTheHourlySketches() {
    for (ServingView view :
        List.of(ServingView.EVENTS_DAILY, ServingView.EVENTS_WEEKLY, ServingView.EVENTS_MONTHLY)) {
      assertThat(view.sql(PREFIXED))
          .contains("CAST(merge(CAST(users_sketch AS HyperLogLog)) AS varbinary) AS users_sketch")
          .contains("cardinality(merge(CAST(users_sketch AS HyperLogLog))) AS users")
          .contains("AS period_start");
    }
    assertThat(ServingView.EVENTS_WEEKLY.sql(PREFIXED)).contains("date_trunc('week', event_date)");
    assertThat(ServingView.EVENTS_MONTHLY.sql(PREFIXED))
        .contains("date_trunc('month', event_date)");
  }

  private static void assertReadOrder(ServingView view, String... tables) {
    String sql = view.sql(PREFIXED);
    int previous = -1;
    for (String table : tables) {
      int position = sql.indexOf("FROM " + table);
      assertThat(position)
          .as("%s reads %s after %s", view, table, previous)
          .isGreaterThan(previous);
      previous = position;
    }
  }

  /** The WITH query's select list is exactly the table's columns, in the table's order. */
  private static void assertSelects(ServingView view, String withQuery, LakeTable table) {
    Matcher select =
        Pattern.compile(withQuery + " AS \\(\\s*SELECT (.*?)\\s+FROM ", Pattern.DOTALL)
            .matcher(view.sql(PREFIXED));
    assertThat(select.find()).as("%s has %s", view, withQuery).isTrue();
    List<String> selected = Arrays.stream(select.group(1).split(",")).map(String::strip).toList();
    List<String> columns = List.of(StructType.fromDDL(table.columns()).fieldNames());
    assertThat(selected).as("%s %s", view, withQuery).isEqualTo(columns);
  }
}
