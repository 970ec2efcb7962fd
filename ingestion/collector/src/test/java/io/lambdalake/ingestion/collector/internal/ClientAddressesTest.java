package io.lambdalake.ingestion.collector.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.UnknownHostException;
import org.junit.jupiter.api.Test;

class ClientAddressesTest {
  @Test
  void truncatesIpv4ToItsSlash24() throws UnknownHostException {
    assertThat(ClientAddresses.truncate(InetAddress.getByName("203.0.113.77")))
        .isEqualTo("203.0.113.0");
    assertThat(ClientAddresses.truncate(InetAddress.getByName("127.0.0.1"))).isEqualTo("127.0.0.0");
  }

  @Test
  void truncatesIpv6ToItsSlash48() throws UnknownHostException {
    assertThat(
            ClientAddresses.truncate(InetAddress.getByName("2001:db8:85a3:8d3:1319:8a2e:370:7348")))
        .isEqualTo("2001:db8:85a3::");
    assertThat(ClientAddresses.truncate(InetAddress.getByName("2001:db8::1")))
        .isEqualTo("2001:db8::");
    assertThat(ClientAddresses.truncate(InetAddress.getByName("::1"))).isEqualTo("::");
    assertThat(ClientAddresses.truncate(InetAddress.getByName("fe80:0:1:2::3")))
        .isEqualTo("fe80:0:1::");
  }

  @Test
  void treatsIpv4MappedAddressesAsIpv4() {
    byte[] mapped = new byte[16];
    mapped[10] = (byte) 0xff;
    mapped[11] = (byte) 0xff;
    mapped[12] = (byte) 198;
    mapped[13] = 51;
    mapped[14] = 100;
    mapped[15] = 9;
    assertThat(ClientAddresses.truncate(mapped)).isEqualTo("198.51.100.0");
  }

  @Test
  void takesTheFirstForwardedForEntryWithoutResolvingNames() {
    assertThat(ClientAddresses.truncatedForwardedFor("198.51.100.23, 10.0.0.1"))
        .contains("198.51.100.0");
    assertThat(ClientAddresses.truncatedForwardedFor("[2001:db8:1:2::5]")).contains("2001:db8:1::");
    assertThat(ClientAddresses.truncatedForwardedFor("collector.example")).isEmpty();
    assertThat(ClientAddresses.truncatedForwardedFor("unknown")).isEmpty();
    assertThat(ClientAddresses.truncatedForwardedFor("")).isEmpty();
  }
}
