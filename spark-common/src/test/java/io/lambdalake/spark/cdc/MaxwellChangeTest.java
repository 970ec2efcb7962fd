package io.lambdalake.spark.cdc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lambdalake.common.cdc.ChangeEnvelope;
import io.lambdalake.common.cdc.ChangeOperation;
import io.lambdalake.common.cdc.SourcePosition.BinlogPosition;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MaxwellChangeTest {
  @Test
  void anUpdateOfTheKeyHasTheOldKeyInItsBeforeImage() throws Exception {
    MaxwellChange change =
        MaxwellChange.parse(
            "{\"database\":\"shop\",\"table\":\"m\",\"type\":\"update\",\"ts\":1795324004,"
                + "\"xid\":488,\"commit\":true,\"position\":\"mariadb-bin.000007:51179\","
                + "\"server_id\":101,\"data\":{\"id\":10,\"v\":1,\"d\":12345678901234.123456},"
                + "\"old\":{\"id\":1}}");
    ChangeEnvelope envelope = change.envelope().orElseThrow();
    assertThat(envelope.operation()).isEqualTo(ChangeOperation.UPDATE);
    assertThat(envelope.before().orElseThrow().json())
        .isEqualTo("{\"id\":1,\"v\":1,\"d\":12345678901234.123456}");
    assertThat(envelope.after().orElseThrow().json())
        .isEqualTo("{\"id\":10,\"v\":1,\"d\":12345678901234.123456}");
    assertThat(envelope.position())
        .isEqualTo(
            new BinlogPosition("mariadb-bin.000007", 51179, BinlogPosition.LAST_IN_TRANSACTION));
    assertThat(change.xoffset()).isEmpty();
    assertThat(change.commit()).isTrue();
  }

  @Test
  void theRelaysTruncateAndDropAreTableChangesAtTheirPosition() throws Exception {
    MaxwellChange truncate =
        MaxwellChange.parse(
            "{\"database\":\"shop\",\"table\":\"m\",\"type\":\"table-truncate\",\"ts\":1,"
                + "\"position\":\"mariadb-bin.000007:900\",\"server_id\":101,"
                + "\"sql\":\"TRUNCATE TABLE m\"}");
    ChangeEnvelope envelope = truncate.envelope().orElseThrow();
    assertThat(envelope.operation()).isEqualTo(ChangeOperation.TRUNCATE);
    assertThat(envelope.before()).isEmpty();
    assertThat(envelope.after()).isEmpty();
    assertThat(envelope.position())
        .isEqualTo(
            new BinlogPosition("mariadb-bin.000007", 900, BinlogPosition.LAST_IN_TRANSACTION));
    assertThat(
            MaxwellChange.parse(
                    "{\"database\":\"shop\",\"table\":\"m\",\"type\":\"table-drop\","
                        + "\"position\":\"mariadb-bin.000007:950\"}")
                .envelope()
                .orElseThrow()
                .operation())
        .isEqualTo(ChangeOperation.DROP);
    assertThat(
            MaxwellChange.parse(
                    "{\"database\":\"shop\",\"table\":\"m\",\"type\":\"table-rename\","
                        + "\"position\":\"mariadb-bin.000007:990\",\"new_table\":\"n\"}")
                .envelope())
        .as("a rename is only logged")
        .isEmpty();
  }

  @Test
  void rowsWithinATransactionKeepTheirXoffset() throws Exception {
    MaxwellChange change =
        MaxwellChange.parse(
            "{\"database\":\"shop\",\"table\":\"m\",\"type\":\"delete\",\"ts\":1,\"xid\":5,"
                + "\"xoffset\":2,\"position\":\"mariadb-bin.000007:51003\",\"data\":{\"id\":3}}");
    assertThat(change.position()).contains(new BinlogPosition("mariadb-bin.000007", 51003, 2));
    assertThat(change.envelope().orElseThrow().after()).isEmpty();
    assertThat(change.envelope().orElseThrow().before().orElseThrow().json())
        .isEqualTo("{\"id\":3}");
  }

  @Test
  void theDataColumnsAreNamedAndTheNullOnesToo() throws Exception {
    MaxwellChange change =
        MaxwellChange.parse(
            "{\"database\":\"shop\",\"table\":\"m\",\"type\":\"insert\",\"ts\":1,"
                + "\"position\":\"mariadb-bin.000007:51003\","
                + "\"data\":{\"id\":3,\"note\":null,\"tags\":[\"a\"]}}");
    assertThat(change.dataColumns()).containsExactly("id", "note", "tags");
    assertThat(change.nullDataColumns()).containsExactly("note");
  }

  @Test
  void bootstrapMarkersAreLoggedButChangeNothing() throws Exception {
    MaxwellChange change =
        MaxwellChange.parse(
            "{\"database\":\"shop\",\"table\":\"m\",\"type\":\"bootstrap-start\",\"ts\":1,"
                + "\"data\":{}}");
    assertThat(change.envelope()).isEmpty();
  }

  @Test
  void unreadableRecordsSayWhy() {
    Map<String, List<String>> cases =
        Map.of(
            "{nope", List.of("malformed_json", "not JSON"),
            "[1]", List.of("malformed_json", "not a JSON object"),
            "{\"table\":\"t\",\"type\":\"insert\"}",
                List.of("missing_field", "database is missing"),
            "{\"database\":\"d\",\"table\":\"t\",\"type\":\"truncate\"}",
                List.of("unsupported_change_type", "truncate"),
            "{\"database\":\"d\",\"table\":\"t\",\"type\":\"insert\",\"data\":{}}",
                List.of("missing_field", "position is missing"),
            "{\"database\":\"d\",\"table\":\"t\",\"type\":\"insert\",\"position\":\"x\",\"data\":{}}",
                List.of("invalid_field", "position"));
    cases.forEach(
        (json, expected) ->
            assertThatThrownBy(() -> MaxwellChange.parse(json))
                .as(json)
                .isInstanceOfSatisfying(
                    MaxwellChange.Unreadable.class,
                    e -> {
                      assertThat(e.reason()).isEqualTo(expected.get(0));
                      assertThat(e.getMessage()).contains(expected.get(1));
                    }));
    assertThat(Optional.empty()).isEmpty();
  }
}
