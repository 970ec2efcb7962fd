package io.lambdalake.serving.api.internal;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.lambdalake.serving.api.ApiProblem;
import java.net.URLDecoder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The query string of a request: decoded once, every name known to the endpoint, each single
 * parameter given at most once. Anything else is a 400 that names the parameter.
 */
public final class QueryParameters {
  private static final int MAX_QUERY_LENGTH = 4096;
  private static final int MAX_VALUE_LENGTH = 256;
  private final Map<String, List<String>> values;

  private QueryParameters(Map<String, List<String>> values) {
    this.values = values;
  }

  /**
   * Parses a raw (still encoded) query string.
   *
   * @param known the parameters the endpoint takes
   * @param repeatable those of them that may come more than once
   */
  public static QueryParameters parse(String rawQuery, Set<String> known, Set<String> repeatable) {
    Map<String, List<String>> values = new LinkedHashMap<>();
    if (rawQuery == null || rawQuery.isEmpty()) {
      return new QueryParameters(values);
    }
    if (rawQuery.length() > MAX_QUERY_LENGTH) {
      throw ApiProblem.badParameter(
          "query", "The query string is longer than " + MAX_QUERY_LENGTH + " characters");
    }
    for (String pair : rawQuery.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int equals = pair.indexOf('=');
      String name = decode(equals < 0 ? pair : pair.substring(0, equals), "query");
      String value = equals < 0 ? "" : decode(pair.substring(equals + 1), name);
      if (!known.contains(name)) {
        throw ApiProblem.badParameter(
            printable(name),
            "Unknown parameter '" + printable(name) + "'; this endpoint takes " + sorted(known));
      }
      if (value.length() > MAX_VALUE_LENGTH) {
        throw ApiProblem.badParameter(
            name, name + " is longer than " + MAX_VALUE_LENGTH + " characters");
      }
      List<String> list = values.computeIfAbsent(name, ignored -> new ArrayList<>());
      if (!list.isEmpty() && !repeatable.contains(name)) {
        throw ApiProblem.badParameter(name, name + " is given more than once");
      }
      list.add(value);
    }
    return new QueryParameters(values);
  }

  /** The value of a single parameter, if given; an empty value counts as given. */
  public Optional<String> single(String name) {
    List<String> list = values.get(name);
    return list == null ? Optional.empty() : Optional.of(list.get(0));
  }

  public String required(String name) {
    return single(name)
        .filter(value -> !value.isEmpty())
        .orElseThrow(() -> ApiProblem.badParameter(name, name + " is required"));
  }

  /** Every value of a repeatable parameter, comma-separated values split. */
  public List<String> all(String name) {
    List<String> all = new ArrayList<>();
    for (String value : values.getOrDefault(name, List.of())) {
      for (String part : value.split(",", -1)) {
        all.add(part.strip());
      }
    }
    return all;
  }

  private static String decode(String text, String parameter) {
    try {
      return URLDecoder.decode(text, UTF_8);
    } catch (IllegalArgumentException e) {
      throw ApiProblem.badParameter(
          printable(parameter), "The value of " + printable(parameter) + " is not URL-encoded");
    }
  }

  /** A name for a message: cut, and without control characters. */
  private static String printable(String name) {
    String cut = name.length() > 64 ? name.substring(0, 64) + "..." : name;
    return cut.replaceAll("\\p{Cntrl}", "?");
  }

  private static String sorted(Set<String> names) {
    return String.join(", ", names.stream().sorted().toList());
  }
}
