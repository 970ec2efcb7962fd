package io.lambdalake.batch;

import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.spark.sketch.UniqueUsers;
import java.math.BigDecimal;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.assertj.core.data.Offset;

/**
 * The daily views computed independently, in plain Java, from the rows of {@code raw.events}: the
 * 30-minute session rule, bounces, entrances, traffic of a session's first event, revenue per
 * currency. The batch job's daily tables must equal it (unique users within the sketch's error).
 */
final class DailyExpectation {
  private static final Duration GAP = Duration.ofMinutes(30);
  private static final String NONE = "(none)";

  /** Per tracking ID and day. */
  private final Map<String, Site> sites = new TreeMap<>();

  /** Per tracking ID, day and page. */
  private final Map<String, Page> pages = new TreeMap<>();

  /** Per tracking ID, day, source, medium, campaign, device class and browser. */
  private final Map<String, Traffic> traffic = new TreeMap<>();

  private DailyExpectation() {}

  static DailyExpectation fromRaw(Dataset<Row> raw) {
    Map<String, List<Row>> byClientAndDay = new HashMap<>();
    for (Row row : raw.collectAsList()) {
      if (row.<Boolean>getAs("is_bot")) {
        continue;
      }
      String key =
          row.<String>getAs("tracking_id")
              + "|"
              + row.getAs("event_date")
              + "|"
              + row.<String>getAs("client_id");
      byClientAndDay.computeIfAbsent(key, ignored -> new ArrayList<>()).add(row);
    }
    DailyExpectation expectation = new DailyExpectation();
    for (List<Row> rows : byClientAndDay.values()) {
      rows.sort(
          Comparator.<Row, Instant>comparing(row -> row.<Timestamp>getAs("event_time").toInstant())
              .thenComparing(row -> row.<String>getAs("event_id")));
      List<Row> session = new ArrayList<>();
      for (Row row : rows) {
        if (!session.isEmpty() && gap(session.get(session.size() - 1), row).compareTo(GAP) > 0) {
          expectation.addSession(session);
          session = new ArrayList<>();
        }
        session.add(row);
      }
      expectation.addSession(session);
    }
    return expectation;
  }

  private static Duration gap(Row earlier, Row later) {
    return Duration.between(
        earlier.<Timestamp>getAs("event_time").toInstant(),
        later.<Timestamp>getAs("event_time").toInstant());
  }

  private void addSession(List<Row> session) {
    Row first = session.get(0);
    String day = first.<String>getAs("tracking_id") + "|" + first.getAs("event_date");
    Site site = sites.computeIfAbsent(day, ignored -> new Site());
    site.sessions++;
    site.bounced += session.size() == 1 ? 1 : 0;
    site.sessionSeconds += gap(first, session.get(session.size() - 1)).getSeconds();
    String trafficKey =
        day
            + "|"
            + String.join(
                "|",
                dimension(first, "traffic_source"),
                dimension(first, "traffic_medium"),
                dimension(first, "traffic_campaign"),
                dimension(first, "device_class"),
                dimension(first, "browser"));
    Traffic sessionTraffic = traffic.computeIfAbsent(trafficKey, ignored -> new Traffic());
    sessionTraffic.sessions++;
    sessionTraffic.bounced += session.size() == 1 ? 1 : 0;
    boolean entered = false;
    for (Row row : session) {
      String user =
          Objects.requireNonNullElse(row.<String>getAs("user_id"), row.<String>getAs("client_id"));
      site.events++;
      site.users.add(user);
      sessionTraffic.events++;
      sessionTraffic.users.add(user);
      String name = row.getAs("event_name");
      if (name.equals("purchase")) {
        site.purchases++;
        BigDecimal value = row.getAs("value");
        String currency = row.getAs("currency");
        if (value != null && currency != null) {
          site.revenue.merge(currency, value, BigDecimal::add);
        }
      }
      String url = row.getAs("page_url");
      if (name.equals("page_view") && url != null) {
        site.pageviews++;
        Page page =
            pages.computeIfAbsent(day + "|" + url.replaceAll("[?#].*$", ""), ignored -> new Page());
        page.pageviews++;
        page.users.add(user);
        if (!entered) {
          page.entrances++;
          entered = true;
        }
      }
    }
  }

  private static String dimension(Row row, String column) {
    return Objects.requireNonNullElse(row.<String>getAs(column), NONE);
  }

  void assertMatches(SparkSession spark, LakeConfig config) {
    Map<String, Row> actualSites =
        rows(spark, config, LakeTable.BATCH_EVENTS_DAILY, "tracking_id", "event_date");
    assertThat(actualSites.keySet()).isEqualTo(sites.keySet());
    sites.forEach(
        (key, site) -> {
          Row row = actualSites.get(key);
          assertThat(
                  List.of(
                      row.<Long>getAs("events"),
                      row.<Long>getAs("pageviews"),
                      row.<Long>getAs("sessions"),
                      row.<Long>getAs("bounced_sessions"),
                      row.<Long>getAs("session_seconds"),
                      row.<Long>getAs("purchases")))
              .as("events, pageviews, sessions, bounces, session seconds, purchases of %s", key)
              .isEqualTo(
                  List.of(
                      site.events,
                      site.pageviews,
                      site.sessions,
                      site.bounced,
                      site.sessionSeconds,
                      site.purchases));
          assertThat(row.<Double>getAs("bounce_rate"))
              .isCloseTo((double) site.bounced / site.sessions, Offset.offset(1e-12));
          Map<String, BigDecimal> revenue =
              new TreeMap<>(row.getJavaMap(row.fieldIndex("revenue")));
          assertThat(revenue.keySet()).as("currencies of %s", key).isEqualTo(site.revenue.keySet());
          site.revenue.forEach(
              (currency, amount) ->
                  assertThat(revenue.get(currency))
                      .as("%s revenue of %s", currency, key)
                      .isEqualByComparingTo(amount));
          assertUsers(key, row, site.users);
        });

    Map<String, Row> actualPages =
        rows(spark, config, LakeTable.BATCH_PAGES_DAILY, "tracking_id", "event_date", "page_url");
    assertThat(actualPages.keySet()).isEqualTo(pages.keySet());
    pages.forEach(
        (key, page) -> {
          Row row = actualPages.get(key);
          assertThat(List.of(row.<Long>getAs("pageviews"), row.<Long>getAs("entrances")))
              .as("pageviews and entrances of %s", key)
              .isEqualTo(List.of(page.pageviews, page.entrances));
          assertUsers(key, row, page.users);
        });
    // Ranks: 1..n per merchant and day, by page views.
    Map<String, List<Row>> ranked = new HashMap<>();
    actualPages
        .values()
        .forEach(
            row ->
                ranked
                    .computeIfAbsent(
                        row.getAs("tracking_id") + "|" + row.getAs("event_date"),
                        ignored -> new ArrayList<>())
                    .add(row));
    for (List<Row> rows : ranked.values()) {
      rows.sort(Comparator.comparing(row -> row.<Integer>getAs("page_rank")));
      for (int index = 0; index < rows.size(); index++) {
        assertThat(rows.get(index).<Integer>getAs("page_rank")).isEqualTo(index + 1);
        if (index > 0) {
          assertThat(rows.get(index).<Long>getAs("pageviews"))
              .isLessThanOrEqualTo(rows.get(index - 1).<Long>getAs("pageviews"));
        }
      }
    }

    Map<String, Row> actualTraffic =
        rows(
            spark,
            config,
            LakeTable.BATCH_TRAFFIC_DAILY,
            "tracking_id",
            "event_date",
            "traffic_source",
            "traffic_medium",
            "traffic_campaign",
            "device_class",
            "browser");
    assertThat(actualTraffic.keySet()).isEqualTo(traffic.keySet());
    traffic.forEach(
        (key, expected) -> {
          Row row = actualTraffic.get(key);
          assertThat(
                  List.of(
                      row.<Long>getAs("sessions"),
                      row.<Long>getAs("bounced_sessions"),
                      row.<Long>getAs("events")))
              .as("sessions, bounces and events of %s", key)
              .isEqualTo(List.of(expected.sessions, expected.bounced, expected.events));
          assertUsers(key, row, expected.users);
        });
  }

  private static void assertUsers(String key, Row row, Set<String> users) {
    long estimate = UniqueUsers.cardinality(row.getAs("users_sketch"));
    assertThat(row.<Long>getAs("users")).as("users column of %s", key).isEqualTo(estimate);
    assertThat((double) estimate)
        .as("unique users of %s", key)
        .isCloseTo(users.size(), Offset.offset(Math.max(1.0, users.size() * 0.03)));
  }

  private static Map<String, Row> rows(
      SparkSession spark, LakeConfig config, LakeTable table, String... keys) {
    Map<String, Row> rows = new TreeMap<>();
    for (Row row : BatchLayerIT.table(spark, config, table).collectAsList()) {
      List<String> parts = new ArrayList<>();
      for (String key : keys) {
        parts.add(String.valueOf((Object) row.getAs(key)));
      }
      rows.put(String.join("|", parts), row);
    }
    return rows;
  }

  private static final class Site {
    long events;
    long pageviews;
    long sessions;
    long bounced;
    long sessionSeconds;
    long purchases;
    final Set<String> users = new HashSet<>();
    final Map<String, BigDecimal> revenue = new TreeMap<>();
  }

  private static final class Page {
    long pageviews;
    long entrances;
    final Set<String> users = new HashSet<>();
  }

  private static final class Traffic {
    long sessions;
    long bounced;
    long events;
    final Set<String> users = new HashSet<>();
  }
}
