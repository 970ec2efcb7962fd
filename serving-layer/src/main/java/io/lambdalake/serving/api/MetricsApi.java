package io.lambdalake.serving.api;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.lambdalake.common.config.ApiConfig;
import io.lambdalake.common.error.ErrorType;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.serving.api.internal.KeyRateLimiter;
import io.lambdalake.serving.api.internal.QueryParameters;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.time.zone.ZoneOffsetTransition;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The metrics API without its HTTP server: a request (method, path, raw query, headers) in, an
 * answer (status, headers, JSON) out. Authenticates the key, applies its rate limit, validates
 * every parameter (400 naming it), keeps the key to its own tracking IDs (403), and serves repeated
 * questions from a cache keyed per merchant and query.
 */
public final class MetricsApi {
  private static final int MAX_TRINO_OFFSET_SECONDS = 14 * 3600;
  private static final Logger LOG = LoggerFactory.getLogger(MetricsApi.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern EVENT_NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,63}");
  private static final String OPENAPI_RESOURCE = "io/lambdalake/serving/api/openapi.json";
  private static final Set<String> METRICS_PARAMETERS =
      Set.of("metric", "from", "to", "granularity", "event_name", "tz", "tracking_id");
  private static final Set<String> TOP_PAGES_PARAMETERS =
      Set.of("from", "to", "tz", "tracking_id", "limit");
  private static final Set<String> BREAKDOWN_PARAMETERS =
      Set.of("dimension", "from", "to", "tz", "tracking_id", "limit");
  private static final Set<String> REPEATABLE = Set.of("tracking_id");
  private static final int DEFAULT_TOP_PAGES = 10;
  private static final int DEFAULT_BREAKDOWN_ROWS = 20;

  private final ApiConfig config;
  private final MetricsSource source;
  private final ApiKeys keys;
  private final KeyRateLimiter rateLimiter;
  private final Cache<CacheKey, byte[]> cache;
  private final byte[] openApi;

  public MetricsApi(ApiConfig config, MetricsSource source, LongSupplier nanoTime) {
    this.config = requireNonNull(config, "config is null");
    this.source = requireNonNull(source, "source is null");
    this.keys = new ApiKeys(config.keys());
    this.rateLimiter = new KeyRateLimiter(config.rateLimit(), nanoTime);
    this.cache =
        Caffeine.newBuilder()
            .expireAfterWrite(config.cacheTtl())
            .maximumSize(config.cacheMaxEntries())
            .ticker(nanoTime::getAsLong)
            .build();
    this.openApi = openApiDocument();
  }

  /** An HTTP answer: status, headers and a JSON body. */
  public record Answer(int status, Map<String, String> headers, byte[] body) {
    public Answer {
      headers = Map.copyOf(headers);
      requireNonNull(body, "body is null");
    }

    public String bodyText() {
      return new String(body, UTF_8);
    }
  }

  /** The answer to one request; {@code header} looks a request header up by name. */
  public Answer handle(
      String method, String path, String rawQuery, Function<String, Optional<String>> header) {
    Step step = begin(method, path, rawQuery, header);
    return step instanceof Done done ? done.answer() : complete((Pending) step);
  }

  /** How far {@link #begin} got: an answer, or a query still to run on Trino. */
  public sealed interface Step permits Done, Pending {}

  /** Answered without Trino: health, the document, a refusal, or an answer from the cache. */
  public record Done(Answer answer) implements Step {}

  /** A valid request whose answer is not cached: {@link #complete} runs it (and may block). */
  public static final class Pending implements Step {
    private final ApiConfig.Key key;
    private final ApiQuery query;
    private final String path;

    private Pending(ApiConfig.Key key, ApiQuery query, String path) {
      this.key = key;
      this.query = query;
      this.path = path;
    }
  }

  /**
   * Everything that never blocks: authentication, rate limit, parameters, tenant check, cache
   * lookup. An HTTP server calls it on its I/O thread and hands only {@link Pending} steps to
   * threads that may wait for Trino.
   */
  public Step begin(
      String method, String path, String rawQuery, Function<String, Optional<String>> header) {
    try {
      if (path.equals("/health")) {
        return new Done(json(200, Map.of(), "{\"status\":\"ok\"}".getBytes(UTF_8)));
      }
      if (!method.equals("GET")) {
        throw ApiProblem.methodNotAllowed(method);
      }
      if (path.equals("/v1/openapi.json")) {
        return new Done(json(200, Map.of(), openApi));
      }
      Endpoint endpoint = endpoint(path);
      ApiConfig.Key key = authenticate(header);
      rateLimiter
          .tryAcquire(key.keyHash())
          .ifPresent(
              wait -> {
                throw ApiProblem.tooManyRequests(wait);
              });
      ApiQuery query = parse(endpoint, rawQuery, key);
      byte[] cached = cache.getIfPresent(new CacheKey(key.merchant(), query));
      if (cached != null) {
        return new Done(answer(cached, "hit"));
      }
      return new Pending(key, query, path);
    } catch (RuntimeException e) {
      return new Done(failure(path, e));
    }
  }

  /** Runs a pending query (once for concurrent equal ones) and keeps its answer in the cache. */
  public Answer complete(Pending pending) {
    try {
      boolean[] computed = {false};
      byte[] body =
          cache.get(
              new CacheKey(pending.key.merchant(), pending.query),
              ignored -> {
                computed[0] = true;
                return render(pending.key, pending.query);
              });
      return answer(body, computed[0] ? "miss" : "hit");
    } catch (RuntimeException e) {
      return failure(pending.path, e);
    }
  }

  private Answer answer(byte[] body, String cache) {
    return json(
        200,
        Map.of(
            "X-Cache", cache, "Cache-Control", "private, max-age=" + config.cacheTtl().toSeconds()),
        body);
  }

  private static Answer failure(String path, RuntimeException failure) {
    if (failure instanceof ApiProblem problem) {
      return problem(problem);
    }
    if (failure instanceof LakeException lake && lake.errorCode().type() == ErrorType.EXTERNAL) {
      LOG.warn("The API could not answer {}: {}", path, lake.getMessage());
      return problem(ApiProblem.unavailable());
    }
    LOG.error("The API failed on {}", path, failure);
    return internalError();
  }

  private enum Endpoint {
    METRICS,
    TOP_PAGES,
    BREAKDOWNS
  }

  private record CacheKey(String merchant, ApiQuery query) {}

  private static Endpoint endpoint(String path) {
    return switch (path) {
      case "/v1/metrics" -> Endpoint.METRICS;
      case "/v1/top-pages" -> Endpoint.TOP_PAGES;
      case "/v1/breakdowns" -> Endpoint.BREAKDOWNS;
      default -> throw ApiProblem.notFound(path.length() > 100 ? path.substring(0, 100) : path);
    };
  }

  private ApiConfig.Key authenticate(Function<String, Optional<String>> header) {
    Optional<String> presented =
        header
            .apply("Authorization")
            .map(String::strip)
            .filter(value -> value.regionMatches(true, 0, "Bearer ", 0, 7))
            .map(value -> value.substring(7).strip())
            .or(() -> header.apply("X-Api-Key").map(String::strip));
    if (presented.isEmpty()) {
      throw ApiProblem.unauthenticated(
          "An API key is required: send it as 'Authorization: Bearer <key>' or 'X-Api-Key: <key>'");
    }
    return keys.find(presented.get())
        .orElseThrow(() -> ApiProblem.unauthenticated("The API key is not valid"));
  }

  private ApiQuery parse(Endpoint endpoint, String rawQuery, ApiConfig.Key key) {
    return switch (endpoint) {
      case METRICS ->
          metricsQuery(QueryParameters.parse(rawQuery, METRICS_PARAMETERS, REPEATABLE), key);
      case TOP_PAGES ->
          topPagesQuery(QueryParameters.parse(rawQuery, TOP_PAGES_PARAMETERS, REPEATABLE), key);
      case BREAKDOWNS ->
          breakdownQuery(QueryParameters.parse(rawQuery, BREAKDOWN_PARAMETERS, REPEATABLE), key);
    };
  }

  private MetricsQuery metricsQuery(QueryParameters parameters, ApiConfig.Key key) {
    String metricName = parameters.required("metric");
    Metric metric =
        Metric.fromWireName(metricName)
            .orElseThrow(
                () ->
                    ApiProblem.badParameter(
                        "metric",
                        "metric must be one of events, users, pageviews, sessions, revenue"));
    String granularityName = parameters.single("granularity").orElse("day");
    Granularity granularity =
        Granularity.fromWireName(granularityName)
            .orElseThrow(
                () ->
                    ApiProblem.badParameter(
                        "granularity", "granularity must be one of hour, day, week, month"));
    ZoneId zone = zone(parameters, key);
    List<String> trackingIds = trackingIds(parameters, key);
    Optional<String> eventName = parameters.single("event_name");
    if (eventName.isPresent()) {
      if (!metric.takesEventName()) {
        throw ApiProblem.badParameter(
            "event_name", "event_name applies to metric=events and metric=users only");
      }
      if (!EVENT_NAME.matcher(eventName.get()).matches()) {
        throw ApiProblem.badParameter(
            "event_name", "event_name must be a letter, then up to 63 letters, digits and '_'");
      }
    }
    if (metric.source() == Metric.Source.DAILY_UTC) {
      if (granularity == Granularity.HOUR) {
        throw ApiProblem.badParameter(
            "granularity",
            "metric="
                + metric.wireName()
                + " comes from daily views: granularity must be day, week or month");
      }
      if (parameters.single("tz").isPresent() && !isUtc(zone)) {
        throw ApiProblem.badParameter(
            "tz",
            "metric=" + metric.wireName() + " is computed per UTC day: leave tz out or use UTC");
      }
      zone = ZoneOffset.UTC;
    }
    Instant from = boundary(parameters.required("from"), "from", zone, false);
    Instant to = boundary(parameters.required("to"), "to", zone, true);
    if (metric.source() == Metric.Source.DAILY_UTC) {
      requireUtcMidnight(from, "from", metric);
      requireUtcMidnight(to, "to", metric);
    }
    checkRange(from, to);
    checkPoints(granularity, from, to, zone);
    return new MetricsQuery(metric, granularity, from, to, zone, eventName, trackingIds);
  }

  private TopPagesQuery topPagesQuery(QueryParameters parameters, ApiConfig.Key key) {
    ZoneId zone = zone(parameters, key);
    List<String> trackingIds = trackingIds(parameters, key);
    Instant from = boundary(parameters.required("from"), "from", zone, false);
    Instant to = boundary(parameters.required("to"), "to", zone, true);
    checkRange(from, to);
    return new TopPagesQuery(from, to, zone, trackingIds, limit(parameters, DEFAULT_TOP_PAGES));
  }

  private BreakdownQuery breakdownQuery(QueryParameters parameters, ApiConfig.Key key) {
    Dimension dimension =
        Dimension.fromWireName(parameters.required("dimension"))
            .orElseThrow(
                () ->
                    ApiProblem.badParameter(
                        "dimension",
                        "dimension must be one of source, medium, campaign, device, browser"));
    if (parameters.single("tz").isPresent() && !isUtc(zone(parameters, key))) {
      throw ApiProblem.badParameter(
          "tz", "breakdowns are computed per UTC day: leave tz out or use UTC");
    }
    List<String> trackingIds = trackingIds(parameters, key);
    LocalDate from = date(parameters.required("from"), "from");
    LocalDate to = date(parameters.required("to"), "to");
    checkRange(
        from.atStartOfDay(ZoneOffset.UTC).toInstant(),
        to.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant());
    return new BreakdownQuery(
        dimension, from, to, trackingIds, limit(parameters, DEFAULT_BREAKDOWN_ROWS));
  }

  private static ZoneId zone(QueryParameters parameters, ApiConfig.Key key) {
    Optional<String> tz = parameters.single("tz");
    if (tz.isEmpty()) {
      return key.timeZone();
    }
    ZoneId zone;
    try {
      zone = ZoneId.of(tz.get());
    } catch (DateTimeException e) {
      throw badZone();
    }
    return trinoZone(zone).orElseThrow(MetricsApi::badZone);
  }

  /**
   * The zone as Trino takes it: a region of the tz database, or an offset of whole minutes within
   * ±14:00 written +hh:mm (Java also takes seconds and up to ±18:00, and prefixes such as GMT+1,
   * which Trino refuses or spells otherwise).
   */
  static Optional<ZoneId> trinoZone(ZoneId zone) {
    if (ZoneId.getAvailableZoneIds().contains(zone.getId())) {
      return Optional.of(zone);
    }
    if (!(zone.normalized() instanceof ZoneOffset offset)) {
      return Optional.empty();
    }
    int seconds = Math.abs(offset.getTotalSeconds());
    if (seconds % 60 != 0 || seconds > MAX_TRINO_OFFSET_SECONDS) {
      return Optional.empty();
    }
    return Optional.of(offset);
  }

  private static ApiProblem badZone() {
    return ApiProblem.badParameter(
        "tz",
        "tz must be an IANA time zone such as Europe/Berlin, UTC, or an offset of whole minutes"
            + " within -14:00..+14:00 written +hh:mm (send + as %2B)");
  }

  private static boolean isUtc(ZoneId zone) {
    return zone.getRules().isFixedOffset()
        && zone.getRules().getOffset(Instant.EPOCH).equals(ZoneOffset.UTC);
  }

  /** The key's tracking IDs, or those of them the request names; any other is 403. */
  private static List<String> trackingIds(QueryParameters parameters, ApiConfig.Key key) {
    List<String> requested = parameters.all("tracking_id");
    if (requested.isEmpty()) {
      return key.trackingIds();
    }
    List<String> selected = new ArrayList<>();
    for (String trackingId : requested) {
      if (trackingId.isEmpty()) {
        throw ApiProblem.badParameter("tracking_id", "tracking_id is empty");
      }
      if (!key.trackingIds().contains(trackingId)) {
        throw ApiProblem.forbidden(
            "tracking_id", "This API key may not read tracking ID '" + shortened(trackingId) + "'");
      }
      if (!selected.contains(trackingId)) {
        selected.add(trackingId);
      }
    }
    return selected.stream().sorted().toList();
  }

  /**
   * A range boundary: a date (midnight in the zone; {@code to} takes the whole day) or a date-time
   * with its offset, to the second ({@code to} exclusive).
   */
  private static Instant boundary(String text, String parameter, ZoneId zone, boolean end) {
    if (text.length() == 10) {
      LocalDate date = date(text, parameter);
      return (end ? date.plusDays(1) : date).atStartOfDay(zone).toInstant();
    }
    try {
      Instant instant = OffsetDateTime.parse(text).toInstant();
      if (instant.getNano() != 0) {
        throw ApiProblem.badParameter(parameter, parameter + " must be given to the second");
      }
      return instant;
    } catch (DateTimeParseException e) {
      throw ApiProblem.badParameter(
          parameter,
          parameter
              + " must be a date (2026-11-20) or a date-time with offset (2026-11-20T10:00:00Z)");
    }
  }

  private static LocalDate date(String text, String parameter) {
    try {
      if (text.length() != 10) {
        throw new DateTimeParseException("not a date", text, 0);
      }
      return LocalDate.parse(text);
    } catch (DateTimeParseException e) {
      throw ApiProblem.badParameter(parameter, parameter + " must be a date such as 2026-11-20");
    }
  }

  private static void requireUtcMidnight(Instant instant, String parameter, Metric metric) {
    if (!instant.truncatedTo(ChronoUnit.DAYS).equals(instant)) {
      throw ApiProblem.badParameter(
          parameter,
          "metric="
              + metric.wireName()
              + " is computed per UTC day: "
              + parameter
              + " must be a date or a UTC midnight");
    }
  }

  private void checkRange(Instant from, Instant to) {
    if (!from.isBefore(to)) {
      throw ApiProblem.badParameter("to", "to must be after from");
    }
    if (Duration.between(from, to).compareTo(config.maxRange()) > 0) {
      throw ApiProblem.badParameter(
          "to", "The range from-to is longer than " + config.maxRange().toDays() + " days");
    }
  }

  private void checkPoints(Granularity granularity, Instant from, Instant to, ZoneId zone) {
    if (periods(granularity, from, to, zone, config.maxPoints() + 1).size() > config.maxPoints()) {
      throw ApiProblem.badParameter(
          "granularity",
          "The series would have more than "
              + config.maxPoints()
              + " periods: choose a coarser granularity or a shorter range");
    }
  }

  private int limit(QueryParameters parameters, int defaultLimit) {
    Optional<String> text = parameters.single("limit");
    if (text.isEmpty()) {
      return Math.min(defaultLimit, config.maxRows());
    }
    try {
      int limit = Integer.parseInt(text.get());
      if (limit >= 1 && limit <= config.maxRows()) {
        return limit;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw ApiProblem.badParameter(
        "limit", "limit must be a whole number from 1 to " + config.maxRows());
  }

  /**
   * The periods a series over [from, to) has: those of the hours whose start is in the range, each
   * in the period in which it starts.
   */
  static List<Instant> periods(
      Granularity granularity, Instant from, Instant to, ZoneId zone, int atMost) {
    List<Instant> periods = new ArrayList<>();
    Instant firstHour = from.truncatedTo(ChronoUnit.HOURS);
    if (firstHour.isBefore(from)) {
      firstHour = firstHour.plus(1, ChronoUnit.HOURS);
    }
    if (!firstHour.isBefore(to)) {
      return periods;
    }
    for (Instant period = granularity.periodOf(firstHour, zone);
        period.isBefore(to) && periods.size() < atMost;
        period = granularity.next(period, zone)) {
      periods.add(period);
    }
    return periods;
  }

  private byte[] render(ApiConfig.Key key, ApiQuery query) {
    ObjectNode answer = JSON.createObjectNode();
    answer.put("merchant", key.merchant());
    answer.setAll(query.match(this::renderMetrics, this::renderTopPages, this::renderBreakdown));
    return bytes(answer);
  }

  private ObjectNode renderMetrics(MetricsQuery query) {
    ObjectNode answer = JSON.createObjectNode();
    answer.put("metric", query.metric().wireName());
    answer.put("granularity", query.granularity().wireName());
    answer.put("time_zone", query.zone().getId());
    answer.put("from", local(query.from(), query.zone()));
    answer.put("to", local(query.to(), query.zone()));
    putTrackingIds(answer, query.trackingIds());
    query
        .eventName()
        .ifPresentOrElse(
            name -> answer.put("event_name", name), () -> answer.putNull("event_name"));
    ArrayNode series = answer.putArray("series");
    switch (query.metric().source()) {
      case HOURLY -> {
        answer.put("hour_alignment", wholeHourOffsets(query) ? "exact" : "hour_start");
        answer.put(
            "periods",
            "Hours are stored in UTC; an hour counts in the "
                + query.granularity().wireName()
                + " of "
                + query.zone().getId()
                + " in which it starts. Where the zone's offset is not a whole number of hours"
                + " (hour_alignment=hour_start, e.g. Asia/Kolkata), an hour that straddles local"
                + " midnight counts for the day it starts in. Periods without data have 0.");
        if (query.metric() == Metric.USERS) {
          answer.put(
              "approximate", "HyperLogLog sketches merged per period: about 1.6% standard error");
        }
        SortedMap<Instant, Long> values = new TreeMap<>();
        for (Instant period :
            periods(
                query.granularity(), query.from(), query.to(), query.zone(), Integer.MAX_VALUE)) {
          values.put(period, 0L);
        }
        values.putAll(source.counts(query));
        values.forEach((period, value) -> point(series, period, query.zone()).put("value", value));
      }
      case DAILY_UTC -> {
        answer.put(
            "periods",
            "From the batch layer's daily views: UTC days, ISO weeks from Monday and months;"
                + " only days the batch layer has computed are present.");
        if (query.metric() == Metric.REVENUE) {
          answer.put("unit", "sum of purchase values per currency code");
          source
              .revenue(query)
              .forEach(
                  (period, currencies) -> {
                    ObjectNode values = point(series, period, query.zone()).putObject("value");
                    currencies.forEach((currency, amount) -> values.put(currency, amount));
                  });
        } else {
          source
              .counts(query)
              .forEach((period, value) -> point(series, period, query.zone()).put("value", value));
        }
      }
    }
    return answer;
  }

  private ObjectNode renderTopPages(TopPagesQuery query) {
    ObjectNode answer = JSON.createObjectNode();
    answer.put("time_zone", query.zone().getId());
    answer.put("from", local(query.from(), query.zone()));
    answer.put("to", local(query.to(), query.zone()));
    putTrackingIds(answer, query.trackingIds());
    ArrayNode pages = answer.putArray("pages");
    for (MetricsSource.PageRow row : source.topPages(query)) {
      ObjectNode page = pages.addObject();
      page.put("page_url", row.pageUrl());
      page.put("pageviews", row.pageviews());
      page.put("users", row.users());
    }
    return answer;
  }

  private ObjectNode renderBreakdown(BreakdownQuery query) {
    ObjectNode answer = JSON.createObjectNode();
    answer.put("dimension", query.dimension().wireName());
    answer.put("time_zone", "UTC");
    answer.put("from", query.from().toString());
    answer.put("to", query.to().toString());
    putTrackingIds(answer, query.trackingIds());
    answer.put(
        "periods", "UTC days from..to, both included; only days the batch layer has computed.");
    ArrayNode rows = answer.putArray("rows");
    for (MetricsSource.BreakdownRow row : source.breakdown(query)) {
      ObjectNode node = rows.addObject();
      node.put("value", row.value());
      node.put("sessions", row.sessions());
      node.put("bounced_sessions", row.bouncedSessions());
      if (row.sessions() > 0) {
        node.put("bounce_rate", (double) row.bouncedSessions() / row.sessions());
      } else {
        node.putNull("bounce_rate");
      }
      node.put("events", row.events());
      node.put("users", row.users());
    }
    return answer;
  }

  private static ObjectNode point(ArrayNode series, Instant period, ZoneId zone) {
    ObjectNode point = series.addObject();
    point.put("start", local(period, zone));
    return point;
  }

  private static void putTrackingIds(ObjectNode answer, List<String> trackingIds) {
    ArrayNode ids = answer.putArray("tracking_ids");
    trackingIds.forEach(ids::add);
  }

  private static String local(Instant instant, ZoneId zone) {
    return instant.atZone(zone).toOffsetDateTime().toString();
  }

  /** Whether every offset the zone has over the range is a whole number of hours. */
  private static boolean wholeHourOffsets(MetricsQuery query) {
    var rules = query.zone().getRules();
    if (rules.getOffset(query.from()).getTotalSeconds() % 3600 != 0) {
      return false;
    }
    Instant at = query.from();
    for (int guard = 0; guard < 100; guard++) {
      ZoneOffsetTransition transition = rules.nextTransition(at);
      if (transition == null || !transition.getInstant().isBefore(query.to())) {
        return true;
      }
      if (transition.getOffsetAfter().getTotalSeconds() % 3600 != 0) {
        return false;
      }
      at = transition.getInstant();
    }
    return true;
  }

  /** The answer to a problem the server itself finds (queue full, query timed out). */
  static Answer problem(ApiProblem problem) {
    ObjectNode body = JSON.createObjectNode();
    ObjectNode error = body.putObject("error");
    error.put("status", problem.status());
    error.put("code", problem.code());
    problem.parameter().ifPresent(parameter -> error.put("parameter", parameter));
    error.put("message", problem.getMessage());
    Map<String, String> headers = new LinkedHashMap<>();
    problem
        .retryAfter()
        .ifPresent(
            wait ->
                headers.put(
                    "Retry-After", Long.toString(Math.max(1, (wait.toMillis() + 999) / 1000))));
    if (problem.status() == 401) {
      headers.put("WWW-Authenticate", "Bearer");
    }
    if (problem.status() == 405) {
      headers.put("Allow", "GET");
    }
    return json(problem.status(), headers, bytes(body));
  }

  private static Answer internalError() {
    return json(
        500,
        Map.of(),
        "{\"error\":{\"status\":500,\"code\":\"internal\",\"message\":\"Internal error\"}}"
            .getBytes(UTF_8));
  }

  private static Answer json(int status, Map<String, String> headers, byte[] body) {
    Map<String, String> all = new LinkedHashMap<>(headers);
    all.put("Content-Type", "application/json; charset=utf-8");
    return new Answer(status, all, body);
  }

  private static byte[] bytes(Object node) {
    try {
      return JSON.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Cannot write JSON", e);
    }
  }

  private static String shortened(String text) {
    String cut = text.length() > 64 ? text.substring(0, 64) + "..." : text;
    return cut.replaceAll("\\p{Cntrl}", "?");
  }

  private static byte[] openApiDocument() {
    try (InputStream in = MetricsApi.class.getClassLoader().getResourceAsStream(OPENAPI_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("The OpenAPI document " + OPENAPI_RESOURCE + " is missing");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
