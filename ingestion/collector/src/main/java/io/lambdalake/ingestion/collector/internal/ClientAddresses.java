package io.lambdalake.ingestion.collector.internal;

import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.util.Optional;

/**
 * Client IPs as the collector keeps them: truncated for privacy, IPv4 to its /24 and IPv6 to its
 * /48, so the address still tells a network (for geography, bots) but no longer a household.
 */
public final class ClientAddresses {
  private ClientAddresses() {}

  /**
   * The address truncated, in its usual text form, e.g. {@code 203.0.113.0} or {@code
   * 2001:db8:1::}.
   */
  public static String truncate(InetAddress address) {
    return truncate(address.getAddress());
  }

  /**
   * The client's address from an {@code X-Forwarded-For} header: the first (left-most) entry, which
   * the load balancer nearest the client wrote. Empty when that entry is no IP literal; names are
   * never resolved.
   */
  public static Optional<String> truncatedForwardedFor(String header) {
    int comma = header.indexOf(',');
    String first = (comma < 0 ? header : header.substring(0, comma)).strip();
    if (first.startsWith("[") && first.contains("]")) {
      first = first.substring(1, first.indexOf(']'));
    }
    byte[] bytes = NetUtil.createByteArrayFromIpAddressString(first);
    return bytes == null ? Optional.empty() : Optional.of(truncate(bytes));
  }

  static String truncate(byte[] address) {
    if (address.length == 4) {
      return (address[0] & 0xff) + "." + (address[1] & 0xff) + "." + (address[2] & 0xff) + ".0";
    }
    if (address.length != 16) {
      throw new IllegalArgumentException("not an IP address of 4 or 16 bytes: " + address.length);
    }
    if (isIpv4Mapped(address)) {
      return truncate(new byte[] {address[12], address[13], address[14], address[15]});
    }
    int[] groups = {
      ((address[0] & 0xff) << 8) | (address[1] & 0xff),
      ((address[2] & 0xff) << 8) | (address[3] & 0xff),
      ((address[4] & 0xff) << 8) | (address[5] & 0xff)
    };
    // The five zero groups at the end are the longest run of zeros, so they become "::" (RFC 5952).
    int significant = groups.length;
    while (significant > 0 && groups[significant - 1] == 0) {
      significant--;
    }
    StringBuilder text = new StringBuilder();
    for (int group = 0; group < significant; group++) {
      if (group > 0) {
        text.append(':');
      }
      text.append(Integer.toHexString(groups[group]));
    }
    return text.append("::").toString();
  }

  private static boolean isIpv4Mapped(byte[] address) {
    for (int index = 0; index < 10; index++) {
      if (address[index] != 0) {
        return false;
      }
    }
    return address[10] == (byte) 0xff && address[11] == (byte) 0xff;
  }
}
