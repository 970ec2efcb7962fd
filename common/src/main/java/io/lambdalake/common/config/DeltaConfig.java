package io.lambdalake.common.config;

/**
 * How Spark commits to Delta tables. {@code conditionalCommits}: each commit of an {@code s3a://}
 * table is written with a conditional create ({@code If-None-Match: *}), so that of two writers
 * racing for one version exactly one wins and the other retries (docs/design.md, "Safe commits on
 * S3"); off, Delta's own S3 log store lets the second overwrite the first.
 */
public record DeltaConfig(boolean conditionalCommits) {}
