package io.lambdalake.ingestion.landing;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

class UserAgentsTest {
  private final UserAgents userAgents = new UserAgents();

  @Test
  void aDesktopBrowserIsAHuman() {
    Row row =
        userAgents.call(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
                + " Chrome/124.0.0.0 Safari/537.36");

    assertThat(row.getString(0)).isEqualTo("Chrome");
    assertThat(row.getString(1)).isEqualTo("124");
    assertThat(row.getString(2)).isEqualTo("Windows NT");
    assertThat(row.getString(3)).isEqualTo("Desktop");
    assertThat(row.getBoolean(4)).isFalse();
  }

  @Test
  void aPhoneIsAPhone() {
    Row row =
        userAgents.call(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like"
                + " Gecko) Version/17.4 Mobile/15E148 Safari/604.1");

    assertThat(row.getString(3)).isEqualTo("Phone");
    assertThat(row.getBoolean(4)).isFalse();
  }

  @Test
  void crawlersAndMissingAgentsAreBots() {
    assertThat(
            userAgents
                .call("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
                .getBoolean(4))
        .isTrue();
    assertThat(userAgents.call(null).getBoolean(4)).isTrue();
    assertThat(userAgents.call("  ").getString(3)).isEqualTo("Unknown");
  }
}
