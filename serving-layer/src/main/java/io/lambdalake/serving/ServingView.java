package io.lambdalake.serving;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.TrinoConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.table.LakeTable;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The views of the {@code serving} schema, in the order they must be created (a view before the
 * views built on it). Each one's SQL is a file beside this class, {@code views/<name>.sql}, with
 * the zones' schemas written as {@code ${raw}}, {@code ${batch}}, {@code ${speed}} and {@code
 * ${serving}}; {@link #sql} puts in the schema names of the configuration.
 */
public enum ServingView {
  EVENTS_HOURLY(
      "events_hourly",
      List.of(
          LakeTable.SPEED_EVENTS_HOURLY, LakeTable.BATCH_COVERAGE, LakeTable.BATCH_EVENTS_HOURLY)),
  PAGES_HOURLY(
      "pages_hourly",
      List.of(
          LakeTable.SPEED_PAGES_HOURLY, LakeTable.BATCH_COVERAGE, LakeTable.BATCH_PAGES_HOURLY)),
  EVENTS_DAILY("events_daily", List.of()),
  EVENTS_WEEKLY("events_weekly", List.of()),
  EVENTS_MONTHLY("events_monthly", List.of()),
  SESSIONS_DAILY("sessions_daily", List.of(LakeTable.BATCH_COVERAGE, LakeTable.BATCH_EVENTS_DAILY)),
  TOP_PAGES_DAILY(
      "top_pages_daily", List.of(LakeTable.BATCH_COVERAGE, LakeTable.BATCH_PAGES_DAILY)),
  TRAFFIC_DAILY("traffic_daily", List.of(LakeTable.BATCH_COVERAGE, LakeTable.BATCH_TRAFFIC_DAILY));

  /** The zone whose schema holds the views. */
  public static final String ZONE = "serving";

  private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([a-z_]+)}");
  private static final List<String> ZONES = List.of("raw", "batch", "speed", ZONE);

  private final String viewName;
  private final List<LakeTable> tables;

  ServingView(String viewName, List<LakeTable> tables) {
    this.viewName = requireNonNull(viewName, "viewName is null");
    this.tables = List.copyOf(tables);
  }

  /** The view's name in the serving schema, e.g. {@code events_hourly}. */
  public String viewName() {
    return viewName;
  }

  /** The Delta tables the view reads directly (views it reads are created before it). */
  public List<LakeTable> tables() {
    return tables;
  }

  /** The view's name with its schema, e.g. {@code serving.events_hourly}. */
  public String qualifiedName(TrinoConfig trino) {
    return trino.schema(ZONE) + "." + viewName;
  }

  /** The view's query, with the schema names of this configuration. */
  public String sql(TrinoConfig trino) {
    Matcher placeholders = PLACEHOLDER.matcher(template());
    StringBuilder sql = new StringBuilder();
    while (placeholders.find()) {
      String zone = placeholders.group(1);
      if (!ZONES.contains(zone)) {
        throw new LakeException(
            ErrorCode.INTERNAL_ERROR,
            "The SQL of serving." + viewName + " names an unknown zone ${" + zone + "}");
      }
      placeholders.appendReplacement(sql, Matcher.quoteReplacement(trino.schema(zone)));
    }
    placeholders.appendTail(sql);
    return sql.toString().strip();
  }

  /** The statement that creates or replaces the view. */
  public String createStatement(TrinoConfig trino) {
    return "CREATE OR REPLACE VIEW " + qualifiedName(trino) + " AS\n" + sql(trino);
  }

  private String template() {
    String resource = "views/" + viewName + ".sql";
    try (InputStream in = ServingView.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new LakeException(
            ErrorCode.INTERNAL_ERROR,
            "The SQL of serving." + viewName + " is missing: " + resource);
      }
      return new String(in.readAllBytes(), UTF_8);
    } catch (IOException e) {
      throw new LakeException(
          ErrorCode.INTERNAL_ERROR, "Cannot read the SQL of serving." + viewName, e);
    }
  }
}
