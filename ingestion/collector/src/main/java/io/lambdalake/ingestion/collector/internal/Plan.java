package io.lambdalake.ingestion.collector.internal;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.function.Function;

/**
 * What to do with a request: the records to send, and the answer to give once Kafka acknowledged or
 * failed them. A plan without records is answered at once.
 */
public record Plan(List<OutgoingRecord> records, Function<Delivery, Reply> reply) {
  public Plan {
    records = List.copyOf(records);
    requireNonNull(reply, "reply is null");
  }

  public static Plan immediate(Reply reply) {
    requireNonNull(reply, "reply is null");
    return new Plan(List.of(), delivery -> reply);
  }
}
