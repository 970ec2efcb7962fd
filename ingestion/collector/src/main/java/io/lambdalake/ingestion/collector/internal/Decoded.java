package io.lambdalake.ingestion.collector.internal;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.event.CollectedEvent;
import java.util.Optional;

/** One event as read from input: accepted, or rejected with its reason. */
public sealed interface Decoded {
  record Accepted(CollectedEvent event) implements Decoded {
    public Accepted {
      requireNonNull(event, "event is null");
    }
  }

  /**
   * @param trackingId the tracking ID the input named, if it named a well-formed one
   */
  record Rejected(Rejection rejection, Optional<String> trackingId) implements Decoded {
    public Rejected {
      requireNonNull(rejection, "rejection is null");
      requireNonNull(trackingId, "trackingId is null");
    }
  }
}
