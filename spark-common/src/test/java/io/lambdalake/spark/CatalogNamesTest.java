package io.lambdalake.spark;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CatalogNamesTest {
  @Test
  void sparksAndTrinosSchemesAndATrailingSlashNameTheSameLocation() {
    assertThat(
            CatalogNames.sameLocation(
                "s3a://lake/warehouse/raw/events", "s3://lake/warehouse/raw/events/"))
        .isTrue();
    assertThat(
            CatalogNames.sameLocation(
                "s3a://lake/warehouse/raw/events", "s3a://lake/warehouse/raw/events"))
        .isTrue();
  }

  @Test
  void anotherTableOrBucketIsAnotherLocation() {
    assertThat(
            CatalogNames.sameLocation(
                "s3a://lake/warehouse/raw/events", "s3a://lake/test1/raw/events"))
        .isFalse();
    assertThat(
            CatalogNames.sameLocation(
                "s3a://lake/warehouse/raw/events", "s3a://other/warehouse/raw/events"))
        .isFalse();
  }
}
