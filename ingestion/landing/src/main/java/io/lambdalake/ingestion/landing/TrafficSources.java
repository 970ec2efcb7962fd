package io.lambdalake.ingestion.landing;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.api.java.UDF3;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Where a visit came from, as analytics tools classify it: UTM parameters win (from the event's
 * params, else the page URL's query); else the referrer: none is {@code (direct) / (none)}, a
 * search engine is {@code <engine> / organic}, a social network {@code <network> / social}, the
 * site itself is direct, and any other site is {@code <host> / referral}. URLs are parsed by
 * java.net.URI.
 */
public final class TrafficSources
    implements UDF3<String, String, scala.collection.Map<String, String>, Row> {
  private static final long serialVersionUID = 1L;

  public static final StructType TYPE =
      new StructType()
          .add("source", DataTypes.StringType)
          .add("medium", DataTypes.StringType)
          .add("campaign", DataTypes.StringType);

  static final String DIRECT = "(direct)";
  static final String NONE = "(none)";

  private static final List<Map.Entry<String, String>> SEARCH_ENGINES =
      List.of(
          Map.entry("google.", "google"),
          Map.entry("bing.com", "bing"),
          Map.entry("duckduckgo.com", "duckduckgo"),
          Map.entry("search.yahoo.", "yahoo"),
          Map.entry("yandex.", "yandex"),
          Map.entry("baidu.com", "baidu"),
          Map.entry("ecosia.org", "ecosia"));
  private static final List<Map.Entry<String, String>> SOCIAL_NETWORKS =
      List.of(
          Map.entry("facebook.com", "facebook"),
          Map.entry("instagram.com", "instagram"),
          Map.entry("t.co", "twitter"),
          Map.entry("twitter.com", "twitter"),
          Map.entry("x.com", "twitter"),
          Map.entry("linkedin.com", "linkedin"),
          Map.entry("lnkd.in", "linkedin"),
          Map.entry("reddit.com", "reddit"),
          Map.entry("youtube.com", "youtube"),
          Map.entry("pinterest.com", "pinterest"),
          Map.entry("tiktok.com", "tiktok"));

  @Override
  public Row call(String pageUrl, String referrer, scala.collection.Map<String, String> params) {
    Traffic traffic =
        classify(
            Optional.ofNullable(pageUrl),
            Optional.ofNullable(referrer),
            params == null ? Map.of() : CollectionConverters.asJava(params));
    return RowFactory.create(traffic.source(), traffic.medium(), traffic.campaign().orElse(null));
  }

  /** Source, medium and campaign of one event. */
  public record Traffic(String source, String medium, Optional<String> campaign) {}

  public static Traffic classify(
      Optional<String> pageUrl, Optional<String> referrer, Map<String, String> params) {
    Map<String, String> utm = new HashMap<>(queryParameters(pageUrl));
    params.forEach((key, value) -> utm.put(key.toLowerCase(Locale.ROOT), value));
    String utmSource = blankToNull(utm.get("utm_source"));
    if (utmSource != null) {
      String medium = blankToNull(utm.get("utm_medium"));
      return new Traffic(
          utmSource.toLowerCase(Locale.ROOT),
          medium == null ? NONE : medium.toLowerCase(Locale.ROOT),
          Optional.ofNullable(blankToNull(utm.get("utm_campaign"))));
    }
    Optional<String> referrerHost = referrer.flatMap(TrafficSources::host);
    if (referrerHost.isEmpty()) {
      return new Traffic(DIRECT, NONE, Optional.empty());
    }
    String host = referrerHost.get();
    if (pageUrl.flatMap(TrafficSources::host).filter(host::equals).isPresent()) {
      return new Traffic(DIRECT, NONE, Optional.empty());
    }
    Optional<String> engine = lookup(SEARCH_ENGINES, host);
    if (engine.isPresent()) {
      return new Traffic(engine.get(), "organic", Optional.empty());
    }
    Optional<String> network = lookup(SOCIAL_NETWORKS, host);
    if (network.isPresent()) {
      return new Traffic(network.get(), "social", Optional.empty());
    }
    return new Traffic(host, "referral", Optional.empty());
  }

  private static Optional<String> lookup(List<Map.Entry<String, String>> known, String host) {
    for (Map.Entry<String, String> entry : known) {
      String pattern = entry.getKey();
      boolean matches =
          pattern.endsWith(".")
              ? host.startsWith(pattern) || host.contains("." + pattern)
              : host.equals(pattern) || host.endsWith("." + pattern);
      if (matches) {
        return Optional.of(entry.getValue());
      }
    }
    return Optional.empty();
  }

  private static Optional<String> host(String url) {
    try {
      String host = new URI(url.strip()).getHost();
      if (host == null || host.isBlank()) {
        return Optional.empty();
      }
      host = host.toLowerCase(Locale.ROOT);
      return Optional.of(host.startsWith("www.") ? host.substring(4) : host);
    } catch (URISyntaxException e) {
      return Optional.empty();
    }
  }

  private static Map<String, String> queryParameters(Optional<String> url) {
    Map<String, String> parameters = new HashMap<>();
    if (url.isEmpty()) {
      return parameters;
    }
    String query;
    try {
      query = new URI(url.get().strip()).getRawQuery();
    } catch (URISyntaxException e) {
      return parameters;
    }
    if (query == null) {
      return parameters;
    }
    for (String pair : query.split("&")) {
      int equals = pair.indexOf('=');
      if (equals <= 0) {
        continue;
      }
      try {
        parameters.put(
            URLDecoder.decode(pair.substring(0, equals), StandardCharsets.UTF_8)
                .toLowerCase(Locale.ROOT),
            URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        // A malformed escape in one parameter does not spoil the others.
      }
    }
    return parameters;
  }

  private static String blankToNull(String value) {
    return value == null || value.isBlank() ? null : value.strip();
  }
}
