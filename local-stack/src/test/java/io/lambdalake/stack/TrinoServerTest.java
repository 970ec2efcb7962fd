package io.lambdalake.stack;

import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.common.config.CatalogConfig;
import org.junit.jupiter.api.Test;

/** The lake catalog's metastore lines, from lake.catalog. */
class TrinoServerTest {
  @Test
  void aThriftCatalogReadsTheHiveMetastoreAtItsUri() {
    String lines =
        TrinoServer.metastoreLines(
            new CatalogConfig(CatalogConfig.Type.THRIFT, "thrift://127.0.0.1:19083"));

    assertThat(lines.lines())
        .contains("hive.metastore=thrift", "hive.metastore.uri=${ENV:LAKE_CATALOG_METASTORE_URI}")
        .noneMatch(line -> line.startsWith("hive.metastore.catalog.dir"));
  }

  @Test
  void aFileCatalogKeepsTrinosMetastoreInTheLakesBucket() {
    String lines =
        TrinoServer.metastoreLines(
            new CatalogConfig(CatalogConfig.Type.FILE, "thrift://127.0.0.1:19083"));

    assertThat(lines.lines())
        .contains(
            "hive.metastore=file",
            "hive.metastore.catalog.dir=s3://${ENV:LAKE_S3_BUCKET}/metastore")
        .noneMatch(line -> line.startsWith("hive.metastore.uri"));
  }
}
