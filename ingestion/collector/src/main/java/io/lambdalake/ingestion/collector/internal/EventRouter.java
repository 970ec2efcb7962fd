package io.lambdalake.ingestion.collector.internal;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Maps an event name to its topic by the rules in conf; every other name goes to the "other" topic.
 * Input picks among these topics and nothing else: no topic name is ever built from it.
 */
public final class EventRouter {
  private final Map<String, String> routes;
  private final String otherTopic;

  public EventRouter(Map<String, String> routes, String otherTopic) {
    this.routes = Map.copyOf(requireNonNull(routes, "routes is null"));
    this.otherTopic = requireNonNull(otherTopic, "otherTopic is null");
  }

  public String topicOf(String eventName) {
    return routes.getOrDefault(eventName, otherTopic);
  }

  /** Every topic an event can be routed to. */
  public Set<String> topics() {
    Set<String> topics = new LinkedHashSet<>(routes.values());
    topics.add(otherTopic);
    return Set.copyOf(topics);
  }
}
