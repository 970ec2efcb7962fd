package io.lambdalake.common.config;

import static io.lambdalake.common.config.Checks.checkNotBlank;
import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * The S3 service holding the lake. An empty endpoint means AWS S3 itself; empty keys mean the
 * default AWS credential chain (instance or pod roles).
 */
public record S3Config(
    Optional<String> endpoint,
    String region,
    Optional<String> accessKey,
    Optional<String> secretKey,
    boolean pathStyleAccess,
    String bucket) {
  public S3Config {
    requireNonNull(endpoint, "endpoint is null");
    checkNotBlank(region, "lake.s3.region");
    requireNonNull(accessKey, "accessKey is null");
    requireNonNull(secretKey, "secretKey is null");
    checkNotBlank(bucket, "lake.s3.bucket");
  }

  @Override
  public String toString() {
    return "S3Config[endpoint=%s, region=%s, bucket=%s, pathStyleAccess=%s, credentials=%s]"
        .formatted(
            endpoint.orElse("<aws>"),
            region,
            bucket,
            pathStyleAccess,
            accessKey.isPresent() ? "<static>" : "<default chain>");
  }
}
