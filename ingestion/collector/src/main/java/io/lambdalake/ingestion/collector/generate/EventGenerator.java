package io.lambdalake.ingestion.collector.generate;

import static java.util.Objects.requireNonNull;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.UUID;

/**
 * Seeded, realistic analytics traffic: merchants of very different sizes (Zipf-like), visitors who
 * come back, sessions walking through pages, referrers and UTM campaigns, a few purchases with a
 * value, and a share of crawler traffic. The same seed gives the same events.
 */
public final class EventGenerator {
  private static final List<String> HUMAN_AGENTS =
      List.of(
          "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
              + " Chrome/124.0.0.0 Safari/537.36",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like"
              + " Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
          "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
          "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
              + " Version/17.4 Safari/605.1.15",
          "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko)"
              + " Chrome/124.0.0.0 Mobile Safari/537.36");
  private static final List<String> BOT_AGENTS =
      List.of(
          "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
          "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)");
  private static final List<String> PAGES =
      List.of(
          "/",
          "/products",
          "/products/shoes",
          "/products/bags",
          "/cart",
          "/checkout",
          "/about",
          "/blog/spring-sale",
          "/search");
  private static final List<String> REFERRERS =
      List.of("https://www.google.com/", "https://www.facebook.com/", "https://news.example.org/a");

  private final SplittableRandom random;
  private final List<String> trackingIds;
  private final Instant start;
  private final Duration span;
  private final double botShare;
  private long sequence;

  /**
   * @param seed makes the traffic reproducible
   * @param trackingIds the merchants; the first is the largest, each next about half as big
   * @param start the earliest event time
   * @param span event times fall in [start, start + span)
   * @param botShare the share of sessions from crawlers, 0 to 1
   */
  public EventGenerator(
      long seed, List<String> trackingIds, Instant start, Duration span, double botShare) {
    this.random = new SplittableRandom(seed);
    this.trackingIds = List.copyOf(trackingIds);
    this.start = requireNonNull(start, "start is null");
    this.span = requireNonNull(span, "span is null");
    if (trackingIds.isEmpty()) {
      throw new IllegalArgumentException("trackingIds is empty");
    }
    if (botShare < 0 || botShare > 1) {
      throw new IllegalArgumentException("botShare must be within [0, 1], but is " + botShare);
    }
    this.botShare = botShare;
  }

  /** At least {@code count} events, a session at a time, in time order within each session. */
  public List<GeneratedEvent> generate(int count) {
    List<GeneratedEvent> events = new ArrayList<>(count + 16);
    while (events.size() < count) {
      events.addAll(session());
    }
    return events;
  }

  /** One visit: a few page views, sometimes a custom event and a purchase. */
  public List<GeneratedEvent> session() {
    String trackingId = merchant();
    boolean bot = random.nextDouble() < botShare;
    int visitor = random.nextInt(5_000);
    String clientId = "c" + trackingId.hashCode() % 1000 + "-" + visitor;
    Optional<String> userId =
        !bot && random.nextInt(4) == 0 ? Optional.of("u-" + visitor) : Optional.empty();
    String sessionId = "s-" + new UUID(random.nextLong(), random.nextLong());
    String agent =
        bot
            ? BOT_AGENTS.get(random.nextInt(BOT_AGENTS.size()))
            : HUMAN_AGENTS.get(random.nextInt(HUMAN_AGENTS.size()));
    Instant time = start.plusMillis((long) (random.nextDouble() * span.toMillis()));
    Map<String, String> utm = Map.of();
    Optional<String> referrer = Optional.empty();
    int entry = random.nextInt(10);
    if (entry < 2) {
      utm =
          Map.of("utm_source", "newsletter", "utm_medium", "email", "utm_campaign", "spring-sale");
    } else if (entry < 6) {
      referrer = Optional.of(REFERRERS.get(random.nextInt(REFERRERS.size())));
    }
    String host =
        "https://shop-" + trackingId.toLowerCase().replaceAll("[^a-z0-9]", "") + ".example.com";
    List<GeneratedEvent> events = new ArrayList<>();
    int pages = 1 + random.nextInt(6);
    for (int page = 0; page < pages; page++) {
      String path = PAGES.get(random.nextInt(PAGES.size()));
      String url = host + path + (page == 0 && !utm.isEmpty() ? "?utm_source=newsletter" : "");
      events.add(
          event(
              trackingId,
              "page_view",
              time,
              clientId,
              userId,
              sessionId,
              url,
              page == 0 ? referrer : Optional.of(host + "/"),
              agent,
              bot,
              page == 0 ? utm : Map.of(),
              Optional.empty()));
      time = time.plusSeconds(5 + random.nextInt(120));
      if (!bot && random.nextInt(8) == 0) {
        events.add(
            event(
                trackingId,
                "add_to_cart",
                time,
                clientId,
                userId,
                sessionId,
                url,
                Optional.empty(),
                agent,
                false,
                Map.of("sku", "sku-" + random.nextInt(50)),
                Optional.empty()));
      }
    }
    if (!bot && random.nextInt(10) == 0) {
      BigDecimal value =
          BigDecimal.valueOf(500 + random.nextInt(20_000), 2).setScale(2, RoundingMode.UNNECESSARY);
      events.add(
          event(
              trackingId,
              "purchase",
              time,
              clientId,
              userId,
              sessionId,
              host + "/checkout",
              Optional.empty(),
              agent,
              false,
              Map.of("items", Integer.toString(1 + random.nextInt(3))),
              Optional.of(value)));
    }
    return events;
  }

  private GeneratedEvent event(
      String trackingId,
      String name,
      Instant time,
      String clientId,
      Optional<String> userId,
      String sessionId,
      String url,
      Optional<String> referrer,
      String agent,
      boolean bot,
      Map<String, String> params,
      Optional<BigDecimal> value) {
    sequence++;
    String eventId = "e-" + Long.toHexString(random.nextLong()) + "-" + sequence;
    return new GeneratedEvent(
        eventId,
        trackingId,
        name,
        time,
        clientId,
        userId,
        sessionId,
        url,
        referrer,
        agent,
        bot,
        params,
        value,
        value.map(ignored -> "EUR"));
  }

  /** Merchant i gets about half the traffic of merchant i - 1. */
  private String merchant() {
    int index = 0;
    while (index < trackingIds.size() - 1 && random.nextBoolean()) {
      index++;
    }
    return trackingIds.get(index);
  }
}
