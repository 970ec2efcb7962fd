package io.lambdalake.common.config;

import static io.lambdalake.common.config.Checks.checkNotBlank;
import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.time.Duration;
import java.util.Optional;

/**
 * How {@code lake backfill} and {@code lake dags} reach Airflow's REST API (v2), and which DAGs
 * they drive. The local stack serves Airflow at {@code url} and keeps it in {@code localHome}.
 */
public record AirflowConfig(
    String url,
    String user,
    String password,
    String backfillDag,
    String nightlyDag,
    String reconcileDag,
    Duration pollInterval,
    Duration requestTimeout,
    Duration outageWait,
    Optional<String> localHome) {
  public AirflowConfig {
    checkNotBlank(url, "lake.airflow.url");
    if (!url.startsWith("http://") && !url.startsWith("https://")) {
      throw Checks.invalid("lake.airflow.url", url, "an http:// or https:// URL");
    }
    url = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    checkNotBlank(user, "lake.airflow.user");
    checkNotBlank(password, "lake.airflow.password");
    checkNotBlank(backfillDag, "lake.airflow.backfill-dag");
    checkNotBlank(nightlyDag, "lake.airflow.nightly-dag");
    checkNotBlank(reconcileDag, "lake.airflow.reconcile-dag");
    requireNonNull(pollInterval, "pollInterval is null");
    if (pollInterval.isNegative() || pollInterval.isZero()) {
      throw Checks.invalid("lake.airflow.poll-interval", pollInterval, "positive");
    }
    requireNonNull(requestTimeout, "requestTimeout is null");
    if (requestTimeout.isNegative() || requestTimeout.isZero()) {
      throw Checks.invalid("lake.airflow.request-timeout", requestTimeout, "positive");
    }
    requireNonNull(outageWait, "outageWait is null");
    if (outageWait.isNegative()) {
      throw Checks.invalid("lake.airflow.outage-wait", outageWait, "zero or positive");
    }
    requireNonNull(localHome, "localHome is null");
  }

  /** The port of {@code url}, where the local stack's Airflow listens. */
  public int port() {
    URI uri = URI.create(url);
    if (uri.getPort() > 0) {
      return uri.getPort();
    }
    return "https".equals(uri.getScheme()) ? 443 : 80;
  }

  @Override
  public String toString() {
    return ("AirflowConfig[url=%s, user=%s, backfillDag=%s, nightlyDag=%s, reconcileDag=%s,"
            + " pollInterval=%s, requestTimeout=%s, outageWait=%s, localHome=%s]")
        .formatted(
            url,
            user,
            backfillDag,
            nightlyDag,
            reconcileDag,
            pollInterval,
            requestTimeout,
            outageWait,
            localHome);
  }
}
