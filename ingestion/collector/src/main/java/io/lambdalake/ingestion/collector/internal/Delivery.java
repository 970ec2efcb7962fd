package io.lambdalake.ingestion.collector.internal;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * How sending a request's records ended.
 *
 * @param failedEvents accepted events Kafka did not acknowledge
 * @param failedQuarantine quarantine records Kafka did not acknowledge
 * @param failure the first failure, if any
 */
public record Delivery(int failedEvents, int failedQuarantine, Optional<Throwable> failure) {
  private static final Delivery COMPLETE = new Delivery(0, 0, Optional.empty());

  public Delivery {
    requireNonNull(failure, "failure is null");
  }

  public static Delivery complete() {
    return COMPLETE;
  }

  public boolean allEventsAcknowledged() {
    return failedEvents == 0;
  }
}
