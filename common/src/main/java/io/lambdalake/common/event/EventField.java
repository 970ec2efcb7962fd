package io.lambdalake.common.event;

import static java.util.Objects.requireNonNull;

/**
 * The fields of a collected event as they appear on the wire (the JSON the collector writes to the
 * {@code events.*} topics) and as columns of {@code raw.events}. Wire names are stable: a rename is
 * a new field.
 */
public enum EventField {
  SCHEMA_VERSION("schema_version"),
  EVENT_ID("event_id"),
  TRACKING_ID("tracking_id"),
  EVENT_NAME("event_name"),
  EVENT_TIME("event_time"),
  RECEIVED_AT("received_at"),
  CLIENT_ID("client_id"),
  USER_ID("user_id"),
  SESSION_ID("session_id"),
  PAGE_URL("page_url"),
  REFERRER("referrer"),
  USER_AGENT("user_agent"),
  CLIENT_IP("client_ip"),
  PARAMS("params"),
  VALUE("value"),
  CURRENCY("currency");

  private final String wireName;

  EventField(String wireName) {
    this.wireName = requireNonNull(wireName, "wireName is null");
  }

  public String wireName() {
    return wireName;
  }

  /** Whether the collector sets this field itself, so that a client must not send it. */
  public boolean setByCollector() {
    return switch (this) {
      case SCHEMA_VERSION, RECEIVED_AT, USER_AGENT, CLIENT_IP -> true;
      case EVENT_ID,
          TRACKING_ID,
          EVENT_NAME,
          EVENT_TIME,
          CLIENT_ID,
          USER_ID,
          SESSION_ID,
          PAGE_URL,
          REFERRER,
          PARAMS,
          VALUE,
          CURRENCY ->
          false;
    };
  }
}
