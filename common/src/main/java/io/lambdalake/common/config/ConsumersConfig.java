package io.lambdalake.common.config;

import static io.lambdalake.common.config.Checks.checkNotBlank;
import static io.lambdalake.common.config.Checks.checkPositive;
import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * The reference consumers: the sample matrimonial database, spam detection ({@code lake spam}) and
 * match-making ({@code lake match}).
 *
 * @param sampleDatabase the MariaDB database of the sample application (its mirrors are {@code
 *     mirror.<sampleDatabase>__<table>})
 */
public record ConsumersConfig(String sampleDatabase, Spam spam, Match match) {
  public ConsumersConfig {
    checkNotBlank(sampleDatabase, "lake.consumers.sample-database");
    requireNonNull(spam, "spam is null");
    requireNonNull(match, "match is null");
  }

  /**
   * The spam rules and where flags go.
   *
   * @param topic the Kafka topic each new flag is published to, exactly once
   * @param window the trailing window of the interest, message and duplicate-text rules
   * @param maxInterests interests sent within the window that raise a flag
   * @param maxMessages messages sent within the window that raise a flag
   * @param duplicateRecipients distinct recipients of one message text within the window
   * @param newAccountAge how long an account counts as new
   * @param newAccountBurst interests plus messages within the window from a new account
   * @param reportsWindow the trailing window of the reports rule
   * @param maxReports distinct reporters of one profile within the reports window
   * @param trigger the micro-batch interval
   */
  public record Spam(
      String topic,
      Duration window,
      int maxInterests,
      int maxMessages,
      int duplicateRecipients,
      Duration newAccountAge,
      int newAccountBurst,
      Duration reportsWindow,
      int maxReports,
      Duration trigger) {
    public Spam {
      checkNotBlank(topic, "lake.consumers.spam.topic");
      checkPositiveDuration(window, "lake.consumers.spam.window");
      checkPositive(maxInterests, "lake.consumers.spam.max-interests");
      checkPositive(maxMessages, "lake.consumers.spam.max-messages");
      checkPositive(duplicateRecipients, "lake.consumers.spam.duplicate-recipients");
      checkPositiveDuration(newAccountAge, "lake.consumers.spam.new-account-age");
      checkPositive(newAccountBurst, "lake.consumers.spam.new-account-burst");
      checkPositiveDuration(reportsWindow, "lake.consumers.spam.reports-window");
      checkPositive(maxReports, "lake.consumers.spam.max-reports");
      checkPositiveDuration(trigger, "lake.consumers.spam.trigger");
    }
  }

  /**
   * Match-making.
   *
   * @param topK recommendations kept per profile
   */
  public record Match(int topK) {
    public Match {
      checkPositive(topK, "lake.consumers.match.top-k");
    }
  }

  private static void checkPositiveDuration(Duration duration, String key) {
    requireNonNull(duration, key + " is null");
    if (duration.isNegative() || duration.isZero()) {
      throw Checks.invalid(key, duration, "a positive duration");
    }
  }
}
