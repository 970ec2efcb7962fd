package io.lambdalake.common.launch;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.launch.Endpoint.Address;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** The servers of the lake's configuration that a command can declare it needs. */
public enum Server {
  KAFKA("Kafka", "lake.kafka.bootstrap-servers (LAKE_KAFKA_BOOTSTRAP_SERVERS)"),
  /** The S3 endpoint; on AWS itself (no endpoint configured) nothing is checked. */
  S3("S3", "lake.s3.endpoint (LAKE_S3_ENDPOINT)"),
  TRINO("Trino", "lake.trino.url (LAKE_TRINO_URL)"),
  MARIADB("MariaDB", "lake.mariadb.host and port (LAKE_MARIADB_HOST, LAKE_MARIADB_PORT)"),
  AIRFLOW("Airflow", "lake.airflow.url (LAKE_AIRFLOW_URL)");

  private final String displayName;
  private final String keys;

  Server(String displayName, String keys) {
    this.displayName = displayName;
    this.keys = keys;
  }

  /** The endpoints of the given servers in this configuration. */
  public static List<Endpoint> endpoints(LakeConfig config, Server... servers) {
    List<Endpoint> endpoints = new ArrayList<>();
    for (Server server : servers) {
      server.endpoint(config).ifPresent(endpoints::add);
    }
    return endpoints;
  }

  /** This server's endpoint, if the configuration names one to check. */
  public Optional<Endpoint> endpoint(LakeConfig config) {
    List<Address> addresses =
        switch (this) {
          case KAFKA ->
              Arrays.stream(config.kafka().bootstrapServers().split(","))
                  .filter(server -> !server.isBlank())
                  .map(Address::parse)
                  .toList();
          case S3 ->
              config.s3().endpoint().map(url -> List.of(Address.ofUrl(url, 443))).orElse(List.of());
          case TRINO -> List.of(Address.ofUrl(config.trino().url(), 8080));
          case MARIADB -> List.of(new Address(config.mariaDb().host(), config.mariaDb().port()));
          case AIRFLOW -> List.of(Address.ofUrl(config.airflow().url(), 8080));
        };
    if (addresses.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new Endpoint(displayName, addresses, remedy(addresses)));
  }

  private String remedy(List<Address> addresses) {
    boolean local = addresses.stream().allMatch(address -> isLoopback(address.host()));
    return (local
            ? "start the local stack with scripts/stack up, or set "
            : "check the server, or set ")
        + keys;
  }

  private static boolean isLoopback(String host) {
    return host.equals("localhost") || host.startsWith("127.") || host.equals("[::1]");
  }

  /** The name operators know it by, e.g. "Kafka". */
  public String displayName() {
    return displayName;
  }
}
