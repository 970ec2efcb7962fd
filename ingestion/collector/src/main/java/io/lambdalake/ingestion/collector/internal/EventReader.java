package io.lambdalake.ingestion.collector.internal;

import static io.lambdalake.ingestion.collector.internal.RejectionReason.DUPLICATE_FIELD;
import static io.lambdalake.ingestion.collector.internal.RejectionReason.EVENT_TIME_OUT_OF_RANGE;
import static io.lambdalake.ingestion.collector.internal.RejectionReason.INVALID_FIELD;
import static io.lambdalake.ingestion.collector.internal.RejectionReason.MISSING_FIELD;
import static io.lambdalake.ingestion.collector.internal.RejectionReason.UNKNOWN_FIELD;
import static io.lambdalake.ingestion.collector.internal.RejectionReason.UNKNOWN_TRACKING_ID;
import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.lambdalake.common.config.CollectorConfig;
import io.lambdalake.common.event.CollectedEvent;
import io.lambdalake.common.event.EventField;
import java.io.IOException;
import java.math.BigDecimal;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads one event, from a JSON object or from the query parameters of a tracking pixel, and checks
 * every field against the schema and the limits in conf. The first problem found becomes the
 * rejection, naming the field at fault; the input is always read to its end, so that a rejected
 * event in a batch leaves the parser at the next one.
 */
public final class EventReader {
  /** Pixel query parameters {@code params.<key>} carry the event's params. */
  public static final String PARAMS_PREFIX = EventField.PARAMS.wireName() + ".";

  private static final int MAX_TIME_LENGTH = 64;
  private static final int MAX_VALUE_LENGTH = 64;
  private static final int MAX_EVENT_ID_LENGTH = 64;
  private static final int MAX_VALUE_SCALE = 9;
  private static final BigDecimal MAX_ABSOLUTE_VALUE = new BigDecimal("1e15");

  private final CollectorConfig.Limits limits;
  private final Map<String, CollectorConfig.TrackingId> registry;

  public EventReader(CollectorConfig config) {
    requireNonNull(config, "config is null");
    this.limits = config.limits();
    this.registry = config.trackingIds();
  }

  /**
   * Reads the object the parser is at (its current token is START_OBJECT) up to its END_OBJECT.
   *
   * @throws IOException when the input is no well-formed JSON; the caller rejects it whole
   */
  public Decoded readObject(JsonParser parser, RequestContext context) throws IOException {
    Draft draft = new Draft();
    JsonToken token;
    while ((token = parser.nextToken()) == JsonToken.FIELD_NAME) {
      String name = parser.currentName();
      JsonToken value = parser.nextToken();
      EventField field = FIELDS.get(name);
      if (field == null || field.setByCollector()) {
        skip(parser, value);
        draft.reject(
            UNKNOWN_FIELD,
            fieldName(name),
            field == null
                ? "is not a field of an event"
                : "is set by the collector and must not be sent");
        continue;
      }
      if (!draft.markSeen(field)) {
        skip(parser, value);
        draft.reject(DUPLICATE_FIELD, fieldName(name), "is given more than once");
        continue;
      }
      readField(parser, value, field, draft);
    }
    if (token != JsonToken.END_OBJECT) {
      throw new IllegalStateException("expected the end of an object, got " + token);
    }
    return finish(draft, context);
  }

  /** Reads an event from the query parameters of a tracking pixel request. */
  public Decoded readQuery(List<QueryString.Parameter> parameters, RequestContext context) {
    Draft draft = new Draft();
    for (QueryString.Parameter parameter : parameters) {
      String name = parameter.name();
      String value = parameter.value();
      if (name.startsWith("_")) {
        continue; // a cache buster, e.g. _=1712345678
      }
      if (name.startsWith(PARAMS_PREFIX)) {
        if (draft.params.isEmpty()) {
          draft.markSeen(EventField.PARAMS);
        }
        addParam(draft, name.substring(PARAMS_PREFIX.length()), value);
        continue;
      }
      EventField field = FIELDS.get(name);
      if (field == null || field.setByCollector() || field == EventField.PARAMS) {
        draft.reject(
            UNKNOWN_FIELD,
            fieldName(name),
            field == EventField.PARAMS
                ? "is not a query parameter; send params as params.<key>=<value>"
                : field == null
                    ? "is not a field of an event"
                    : "is set by the collector and must not be sent");
        continue;
      }
      if (!draft.markSeen(field)) {
        draft.reject(DUPLICATE_FIELD, name, "is given more than once");
        continue;
      }
      setText(draft, field, value);
    }
    if (draft.pageUrl == null && draft.rejection == null) {
      // A pixel's Referer is the page that embeds it; it stands in for a page_url not given.
      context
          .referer()
          .filter(referer -> checkUrl(referer) == null)
          .ifPresent(referer -> draft.pageUrl = referer);
    }
    return finish(draft, context);
  }

  private void readField(JsonParser parser, JsonToken token, EventField field, Draft draft)
      throws IOException {
    String name = field.wireName();
    if (token == JsonToken.VALUE_NULL) {
      return;
    }
    switch (field) {
      case PARAMS -> {
        if (token != JsonToken.START_OBJECT) {
          skip(parser, token);
          draft.reject(INVALID_FIELD, name, "must be an object of string values");
          return;
        }
        readParams(parser, draft);
      }
      case EVENT_TIME -> {
        if (token == JsonToken.VALUE_NUMBER_INT
            && parser.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
          draft.eventTime = instantOfMillis(parser.getLongValue(), draft);
        } else if (token == JsonToken.VALUE_STRING) {
          draft.eventTime = parseTime(parser.getText(), draft);
        } else {
          skip(parser, token);
          draft.reject(
              INVALID_FIELD,
              name,
              "must be an ISO-8601 time with offset (2024-05-01T12:00:00Z) or epoch milliseconds");
        }
      }
      case VALUE -> {
        if (token == JsonToken.VALUE_NUMBER_INT || token == JsonToken.VALUE_NUMBER_FLOAT) {
          draft.value = checkValue(parser.getDecimalValue(), draft);
        } else if (token == JsonToken.VALUE_STRING) {
          draft.value = parseValue(parser.getText(), draft);
        } else {
          skip(parser, token);
          draft.reject(INVALID_FIELD, name, "must be a number");
        }
      }
      case EVENT_ID,
          TRACKING_ID,
          EVENT_NAME,
          CLIENT_ID,
          USER_ID,
          SESSION_ID,
          PAGE_URL,
          REFERRER,
          CURRENCY -> {
        if (token != JsonToken.VALUE_STRING) {
          skip(parser, token);
          draft.reject(INVALID_FIELD, name, "must be a string");
          return;
        }
        setText(draft, field, parser.getText());
      }
      case SCHEMA_VERSION, RECEIVED_AT, USER_AGENT, CLIENT_IP ->
          throw new IllegalStateException(name + " is set by the collector");
    }
  }

  private void readParams(JsonParser parser, Draft draft) throws IOException {
    JsonToken token;
    while ((token = parser.nextToken()) == JsonToken.FIELD_NAME) {
      String key = parser.currentName();
      JsonToken value = parser.nextToken();
      switch (value) {
        case VALUE_STRING, VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT, VALUE_TRUE, VALUE_FALSE ->
            addParam(draft, key, parser.getText());
        case VALUE_NULL -> {}
        default -> {
          skip(parser, value);
          draft.reject(
              INVALID_FIELD, paramField(key), "must be a string, number or boolean, not nested");
        }
      }
    }
    if (token != JsonToken.END_OBJECT) {
      throw new IllegalStateException("expected the end of params, got " + token);
    }
  }

  private void addParam(Draft draft, String key, String value) {
    if (draft.rejection != null) {
      return;
    }
    if (key.isEmpty() || key.length() > limits.maxParamKeyLength() || !isParamKey(key)) {
      draft.reject(
          INVALID_FIELD,
          paramField(key),
          "has a key that is not 1 to "
              + limits.maxParamKeyLength()
              + " letters, digits, '_', '-' and '.'");
    } else if (draft.params.containsKey(key)) {
      draft.reject(DUPLICATE_FIELD, paramField(key), "is given more than once");
    } else if (draft.params.size() == limits.maxParams()) {
      draft.reject(
          INVALID_FIELD,
          EventField.PARAMS.wireName(),
          "has more than " + limits.maxParams() + " entries");
    } else if (value.length() > limits.maxParamValueLength()) {
      draft.reject(
          INVALID_FIELD,
          paramField(key),
          "is longer than " + limits.maxParamValueLength() + " characters");
    } else if (!isText(value, true)) {
      draft.reject(INVALID_FIELD, paramField(key), "holds control characters or broken Unicode");
    } else {
      draft.params.put(key, value);
    }
  }

  /** Checks and keeps a field given as text (from JSON strings or query parameters). */
  private void setText(Draft draft, EventField field, String text) {
    String name = field.wireName();
    switch (field) {
      case TRACKING_ID -> {
        if (!isTrackingId(text)) {
          draft.reject(INVALID_FIELD, name, "must be 1 to 64 letters, digits, '-' and '_'");
        } else {
          draft.trackingId = text;
        }
      }
      case EVENT_NAME -> {
        if (!isEventName(text)) {
          draft.reject(
              INVALID_FIELD,
              name,
              "must be a letter followed by up to 63 letters, digits and '_', e.g. page_view");
        } else {
          draft.eventName = text;
        }
      }
      case EVENT_ID -> {
        if (text.isEmpty() || text.length() > MAX_EVENT_ID_LENGTH || !isEventId(text)) {
          draft.reject(
              INVALID_FIELD,
              name,
              "must be 1 to " + MAX_EVENT_ID_LENGTH + " letters, digits, '.', '_', ':' and '-'");
        } else {
          draft.eventId = text;
        }
      }
      case CLIENT_ID -> draft.clientId = checkVisibleId(text, name, draft);
      case SESSION_ID -> draft.sessionId = checkVisibleId(text, name, draft);
      case USER_ID -> {
        if (text.isEmpty() || text.length() > limits.maxIdLength()) {
          draft.reject(INVALID_FIELD, name, "must be 1 to " + limits.maxIdLength() + " characters");
        } else if (!isText(text, false)) {
          draft.reject(INVALID_FIELD, name, "holds control characters or broken Unicode");
        } else {
          draft.userId = text;
        }
      }
      case PAGE_URL -> {
        String problem = checkUrl(text);
        if (problem != null) {
          draft.reject(INVALID_FIELD, name, problem);
        } else {
          draft.pageUrl = text;
        }
      }
      case REFERRER -> {
        if (text.isEmpty()) {
          return; // document.referrer is "" when there is none
        }
        String problem = checkUrl(text);
        if (problem != null) {
          draft.reject(INVALID_FIELD, name, problem);
        } else {
          draft.referrer = text;
        }
      }
      case CURRENCY -> {
        if (!isCurrency(text)) {
          draft.reject(INVALID_FIELD, name, "must be an ISO 4217 code of three capital letters");
        } else {
          draft.currency = text;
        }
      }
      case EVENT_TIME -> {
        if (!text.isEmpty() && text.length() <= 15 && isDigits(text)) {
          draft.eventTime = instantOfMillis(Long.parseLong(text), draft);
        } else {
          draft.eventTime = parseTime(text, draft);
        }
      }
      case VALUE -> draft.value = parseValue(text, draft);
      case PARAMS, SCHEMA_VERSION, RECEIVED_AT, USER_AGENT, CLIENT_IP ->
          throw new IllegalStateException(name + " is not a text field");
    }
  }

  private Decoded finish(Draft draft, RequestContext context) {
    Optional<String> trackingId = Optional.ofNullable(draft.trackingId);
    if (draft.rejection != null) {
      return new Decoded.Rejected(draft.rejection, trackingId);
    }
    Rejection missing =
        draft.trackingId == null
            ? missing(EventField.TRACKING_ID)
            : draft.eventName == null
                ? missing(EventField.EVENT_NAME)
                : draft.clientId == null ? missing(EventField.CLIENT_ID) : null;
    if (missing != null) {
      return new Decoded.Rejected(missing, trackingId);
    }
    if (!registry.containsKey(draft.trackingId)) {
      return new Decoded.Rejected(
          Rejection.ofField(
              UNKNOWN_TRACKING_ID,
              EventField.TRACKING_ID.wireName(),
              "is not registered: "
                  + Rejection.quote(draft.trackingId)
                  + " is in no lake.collector.tracking-ids entry"),
          Optional.empty());
    }
    Instant receivedAt = context.receivedAt();
    Instant eventTime = draft.eventTime == null ? receivedAt : draft.eventTime;
    if (eventTime.isBefore(receivedAt.minus(limits.maxEventAge()))
        || eventTime.isAfter(receivedAt.plus(limits.maxClockSkew()))) {
      return new Decoded.Rejected(
          Rejection.ofField(
              EVENT_TIME_OUT_OF_RANGE,
              EventField.EVENT_TIME.wireName(),
              "is "
                  + eventTime
                  + ", but must be at most "
                  + limits.maxEventAge()
                  + " before and "
                  + limits.maxClockSkew()
                  + " after the time it is received ("
                  + receivedAt
                  + ")"),
          trackingId);
    }
    CollectedEvent event =
        new CollectedEvent(
            draft.eventId == null ? EventIds.next(receivedAt.toEpochMilli()) : draft.eventId,
            draft.trackingId,
            draft.eventName,
            eventTime,
            receivedAt,
            draft.clientId,
            Optional.ofNullable(draft.userId),
            Optional.ofNullable(draft.sessionId),
            Optional.ofNullable(draft.pageUrl),
            Optional.ofNullable(draft.referrer),
            context.userAgent(),
            context.clientIp(),
            draft.params,
            Optional.ofNullable(draft.value),
            Optional.ofNullable(draft.currency));
    return new Decoded.Accepted(event);
  }

  private static Rejection missing(EventField field) {
    return Rejection.ofField(MISSING_FIELD, field.wireName(), "is required");
  }

  private String checkVisibleId(String text, String name, Draft draft) {
    if (text.isEmpty() || text.length() > limits.maxIdLength() || !isVisibleAscii(text)) {
      draft.reject(
          INVALID_FIELD,
          name,
          "must be 1 to " + limits.maxIdLength() + " visible ASCII characters");
      return null;
    }
    return text;
  }

  /** Null when the URL is acceptable, else what is wrong with it. */
  private String checkUrl(String text) {
    if (text.length() > limits.maxTextLength()) {
      return "is longer than " + limits.maxTextLength() + " characters";
    }
    if (!hasScheme(text)) {
      return "must be an absolute URL with a scheme, e.g. https://shop.example/cart";
    }
    if (!isText(text, false) || text.indexOf(' ') >= 0) {
      return "holds spaces, control characters or broken Unicode";
    }
    return null;
  }

  private static Instant instantOfMillis(long epochMillis, Draft draft) {
    try {
      return Instant.ofEpochMilli(epochMillis);
    } catch (DateTimeException e) {
      draft.reject(INVALID_FIELD, EventField.EVENT_TIME.wireName(), "is out of range");
      return null;
    }
  }

  private static Instant parseTime(String text, Draft draft) {
    if (text.length() <= MAX_TIME_LENGTH) {
      try {
        return Instant.parse(text);
      } catch (DateTimeParseException e) {
        // fall through to the rejection
      }
    }
    draft.reject(
        INVALID_FIELD,
        EventField.EVENT_TIME.wireName(),
        "is "
            + Rejection.quote(text)
            + ", not an ISO-8601 time with offset (2024-05-01T12:00:00Z) or epoch milliseconds");
    return null;
  }

  private static BigDecimal parseValue(String text, Draft draft) {
    if (text.length() <= MAX_VALUE_LENGTH) {
      try {
        return checkValue(new BigDecimal(text.strip()), draft);
      } catch (NumberFormatException e) {
        // fall through to the rejection
      }
    }
    draft.reject(
        INVALID_FIELD,
        EventField.VALUE.wireName(),
        "is " + Rejection.quote(text) + ", not a number");
    return null;
  }

  private static BigDecimal checkValue(BigDecimal value, Draft draft) {
    if (value.abs().compareTo(MAX_ABSOLUTE_VALUE) >= 0) {
      draft.reject(INVALID_FIELD, EventField.VALUE.wireName(), "must be below 10^15 in magnitude");
      return null;
    }
    BigDecimal stripped = value.stripTrailingZeros();
    if (stripped.scale() > MAX_VALUE_SCALE) {
      draft.reject(
          INVALID_FIELD,
          EventField.VALUE.wireName(),
          "has more than " + MAX_VALUE_SCALE + " decimal places");
      return null;
    }
    return stripped.scale() < 0 ? stripped.setScale(0) : stripped;
  }

  private static void skip(JsonParser parser, JsonToken token) throws IOException {
    if (token == JsonToken.START_OBJECT || token == JsonToken.START_ARRAY) {
      parser.skipChildren();
    }
  }

  private static String paramField(String key) {
    return fieldName(EventField.PARAMS.wireName() + "." + key);
  }

  /** A field name from input as an answer may name it: cut short, control characters replaced. */
  private static String fieldName(String name) {
    String cut = name.length() > 64 ? name.substring(0, 64) : name;
    return isText(cut, false) ? cut : Rejection.quote(cut);
  }

  static boolean isTrackingId(String text) {
    int length = text.length();
    if (length == 0 || length > 64) {
      return false;
    }
    for (int index = 0; index < length; index++) {
      char c = text.charAt(index);
      if (!(isAsciiLetterOrDigit(c) || c == '-' || c == '_')) {
        return false;
      }
    }
    return true;
  }

  static boolean isEventName(String text) {
    int length = text.length();
    if (length == 0 || length > 64 || !isAsciiLetter(text.charAt(0))) {
      return false;
    }
    for (int index = 1; index < length; index++) {
      char c = text.charAt(index);
      if (!(isAsciiLetterOrDigit(c) || c == '_')) {
        return false;
      }
    }
    return true;
  }

  private static boolean isEventId(String text) {
    for (int index = 0; index < text.length(); index++) {
      char c = text.charAt(index);
      if (!(isAsciiLetterOrDigit(c) || c == '-' || c == '_' || c == '.' || c == ':')) {
        return false;
      }
    }
    return true;
  }

  private static boolean isParamKey(String text) {
    for (int index = 0; index < text.length(); index++) {
      char c = text.charAt(index);
      if (!(isAsciiLetterOrDigit(c) || c == '-' || c == '_' || c == '.')) {
        return false;
      }
    }
    return true;
  }

  private static boolean isCurrency(String text) {
    return text.length() == 3
        && isUpper(text.charAt(0))
        && isUpper(text.charAt(1))
        && isUpper(text.charAt(2));
  }

  private static boolean isVisibleAscii(String text) {
    for (int index = 0; index < text.length(); index++) {
      char c = text.charAt(index);
      if (c < 0x21 || c > 0x7e) {
        return false;
      }
    }
    return true;
  }

  private static boolean isDigits(String text) {
    for (int index = 0; index < text.length(); index++) {
      if (text.charAt(index) < '0' || text.charAt(index) > '9') {
        return false;
      }
    }
    return true;
  }

  /** A scheme as RFC 3986 spells it, then ':'. */
  private static boolean hasScheme(String text) {
    if (text.isEmpty() || !isAsciiLetter(text.charAt(0))) {
      return false;
    }
    for (int index = 1; index < text.length() && index < 32; index++) {
      char c = text.charAt(index);
      if (c == ':') {
        return index + 1 < text.length();
      }
      if (!(isAsciiLetterOrDigit(c) || c == '+' || c == '-' || c == '.')) {
        return false;
      }
    }
    return false;
  }

  /**
   * Text without control characters (tab and line breaks allowed when {@code multiLine}) and
   * without unpaired surrogates, which JSON escapes can smuggle in.
   */
  static boolean isText(String text, boolean multiLine) {
    int length = text.length();
    for (int index = 0; index < length; index++) {
      char c = text.charAt(index);
      if (c < 0x20) {
        if (!multiLine || (c != '\t' && c != '\n' && c != '\r')) {
          return false;
        }
      } else if (c == 0x7f) {
        return false;
      } else if (Character.isHighSurrogate(c)) {
        if (index + 1 == length || !Character.isLowSurrogate(text.charAt(index + 1))) {
          return false;
        }
        index++;
      } else if (Character.isLowSurrogate(c)) {
        return false;
      }
    }
    return true;
  }

  private static boolean isAsciiLetter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }

  private static boolean isUpper(char c) {
    return c >= 'A' && c <= 'Z';
  }

  private static boolean isAsciiLetterOrDigit(char c) {
    return isAsciiLetter(c) || (c >= '0' && c <= '9');
  }

  private static final Map<String, EventField> FIELDS = fieldsByWireName();

  private static Map<String, EventField> fieldsByWireName() {
    Map<String, EventField> fields = new LinkedHashMap<>();
    for (EventField field : EventField.values()) {
      fields.put(field.wireName(), field);
    }
    return Map.copyOf(fields);
  }

  /** The fields of one event as read so far, and the first problem found. */
  private static final class Draft {
    private int seen;
    private Rejection rejection;
    private String eventId;
    private String trackingId;
    private String eventName;
    private Instant eventTime;
    private String clientId;
    private String userId;
    private String sessionId;
    private String pageUrl;
    private String referrer;
    private final Map<String, String> params = new LinkedHashMap<>();
    private BigDecimal value;
    private String currency;

    /** Marks a field as given; false when it already was. */
    boolean markSeen(EventField field) {
      int bit = 1 << field.ordinal();
      if ((seen & bit) != 0) {
        return false;
      }
      seen |= bit;
      return true;
    }

    void reject(RejectionReason reason, String field, String message) {
      if (rejection == null) {
        rejection = Rejection.ofField(reason, field, message);
      }
    }
  }
}
