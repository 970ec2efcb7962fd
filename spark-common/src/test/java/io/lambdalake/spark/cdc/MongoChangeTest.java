package io.lambdalake.spark.cdc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lambdalake.common.cdc.ChangeOperation;
import io.lambdalake.common.cdc.SourcePosition.ClusterTime;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MongoChangeTest {
  private static final String UPDATE =
      "{\"_id\": {\"_data\": \"826561\"}, \"operationType\": \"update\","
          + " \"clusterTime\": {\"$timestamp\": {\"t\": 1700000000, \"i\": 3}},"
          + " \"ns\": {\"db\": \"shop\", \"coll\": \"orders\"},"
          + " \"documentKey\": {\"_id\": {\"$oid\": \"6561f0a1b2c3d4e5f6a7b8c9\"}},"
          + " \"fullDocument\": {\"_id\": {\"$oid\": \"6561f0a1b2c3d4e5f6a7b8c9\"},"
          + " \"total\": {\"$numberDecimal\": \"10.50\"}, \"n\": {\"$numberLong\": \"7\"},"
          + " \"at\": {\"$date\": {\"$numberLong\": \"1700000000000\"}}},"
          + " \"updateDescription\": {\"updatedFields\": {\"n\": 7}, \"removedFields\": []}}";

  @Test
  void readsTheConnectorsEventWithExtendedJsonTypes() throws Exception {
    MongoChange change =
        MongoChange.parse(
            UPDATE,
            Optional.empty(),
            "cdc.mongo.shop.orders",
            "cdc.mongo.",
            Map.of("shop.orders", List.of("total", "n", "at", "missing")));
    assertThat(change.source().qualifiedName()).isEqualTo("shop.orders");
    assertThat(change.envelope().orElseThrow().operation()).isEqualTo(ChangeOperation.UPDATE);
    assertThat(change.clusterTime()).contains(new ClusterTime(1700000000, 3, "826561"));
    assertThat(change.documentKey()).contains("{\"$oid\": \"6561f0a1b2c3d4e5f6a7b8c9\"}");
    assertThat(change.promoted())
        .containsExactly(
            Map.entry("total", "10.50"),
            Map.entry("n", "7"),
            Map.entry("at", "2023-11-14T22:13:20Z"));
    assertThat(change.fullDocument().orElseThrow()).contains("\"$numberDecimal\": \"10.50\"");
  }

  @Test
  void acceptsADoubleEncodedValueAndTakesTheCollectionFromTheTopic() throws Exception {
    String withoutNamespace =
        UPDATE.replace(" \"ns\": {\"db\": \"shop\", \"coll\": \"orders\"},", "");
    assertThat(withoutNamespace).doesNotContain("\"ns\"");
    String encoded = "\"" + withoutNamespace.replace("\"", "\\\"") + "\"";
    MongoChange change =
        MongoChange.parse(
            encoded, Optional.empty(), "cdc.mongo.shop.orders", "cdc.mongo.", Map.of());
    assertThat(change.source().table()).isEqualTo("orders");
  }

  @Test
  void anUpdateWithoutItsFullDocumentIsRefusedWithTheFix() {
    String withoutDocument = UPDATE.replaceAll(", \"fullDocument\": \\{.*?\\}\\},", ",");
    assertThatThrownBy(
            () ->
                MongoChange.parse(
                    withoutDocument.replace("\"fullDocument\"", "\"x\""),
                    Optional.empty(),
                    "cdc.mongo.shop.orders",
                    "cdc.mongo.",
                    Map.of()))
        .isInstanceOfSatisfying(
            MaxwellChange.Unreadable.class,
            e -> {
              assertThat(e.reason()).isEqualTo("no_full_document");
              assertThat(e.getMessage()).contains("change.stream.full.document=updateLookup");
            });
  }
}
