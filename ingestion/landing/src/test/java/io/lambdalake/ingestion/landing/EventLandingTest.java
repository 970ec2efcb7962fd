package io.lambdalake.ingestion.landing;

import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.common.config.TopicsConfig;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class EventLandingTest {
  private static final TopicsConfig TOPICS =
      new TopicsConfig(
          "events.", "events.other", "events.quarantine", "cdc.maxwell.", "cdc.mongo.", 4, 1);

  @Test
  void theTopicPatternTakesOurEventTopicsOnly() {
    Pattern pattern = Pattern.compile(EventLanding.topicPattern(TOPICS));

    assertThat(pattern.matcher("events.page_view").find()).isTrue();
    assertThat(pattern.matcher("events.other").find()).isTrue();
    assertThat(pattern.matcher("events.quarantine").find()).isTrue();
    // Whether the client matches the whole name or searches in it, others' topics stay out.
    assertThat(pattern.matcher("bench-speed-1.events.page_view").find()).isFalse();
    assertThat(pattern.matcher("p1.events.other").find()).isFalse();
    assertThat(pattern.matcher("eventsXpage_view").find()).isFalse();
    assertThat(pattern.matcher("cdc.maxwell.shop.customers").find()).isFalse();
    assertThat(pattern.matcher("events.").find()).isFalse();
  }
}
