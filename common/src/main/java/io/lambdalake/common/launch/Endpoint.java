package io.lambdalake.common.launch;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A server a run needs, as the preflight checks it: it answers when any of its addresses accepts a
 * TCP connection (Kafka's bootstrap servers are alternatives).
 *
 * @param name what operators call it, e.g. "Kafka"
 * @param addresses host and port of each alternative
 * @param remedy what to do when it does not answer
 */
public record Endpoint(String name, List<Address> addresses, String remedy) {
  private static final Pattern URL_AUTHORITY =
      Pattern.compile("^[A-Za-z][A-Za-z0-9+.:-]*://(?:[^@/]*@)?(\\[[^]]+]|[^:/?;#]+)(?::(\\d+))?");

  public Endpoint {
    requireNonNull(name, "name is null");
    addresses = List.copyOf(addresses);
    requireNonNull(remedy, "remedy is null");
    if (addresses.isEmpty()) {
      throw new IllegalArgumentException(name + " has no address");
    }
  }

  /** One host and port. */
  public record Address(String host, int port) {
    public Address {
      requireNonNull(host, "host is null");
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("port must be between 1 and 65535, not " + port);
      }
    }

    /** Parses {@code host:port}. */
    public static Address parse(String hostAndPort) {
      int colon = hostAndPort.lastIndexOf(':');
      if (colon <= 0 || colon == hostAndPort.length() - 1) {
        throw new IllegalArgumentException("not host:port: " + hostAndPort);
      }
      return new Address(
          hostAndPort.substring(0, colon).strip(),
          Integer.parseInt(hostAndPort.substring(colon + 1).strip()));
    }

    /**
     * The host and port of a URL such as {@code http://host:port/path} or {@code
     * jdbc:mariadb://host/db}, with the given port when the URL names none.
     */
    public static Address ofUrl(String url, int defaultPort) {
      String withoutJdbc = url.startsWith("jdbc:") ? url.substring("jdbc:".length()) : url;
      Matcher matcher = URL_AUTHORITY.matcher(withoutJdbc);
      if (!matcher.find()) {
        throw new IllegalArgumentException("not a URL with a host: " + url);
      }
      String port = matcher.group(2);
      return new Address(matcher.group(1), port == null ? defaultPort : Integer.parseInt(port));
    }

    @Override
    public String toString() {
      return host + ":" + port;
    }
  }
}
