package io.lambdalake.consumers.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lambdalake.common.config.MariaDbConfig;
import io.lambdalake.common.error.LakeException;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class SampleDatabaseTest {
  private static final MariaDbConfig MARIADB =
      new MariaDbConfig("127.0.0.1", 13306, "lake", "secret", 101);

  @Test
  void schemaHasTheFiveTablesWithKeysAndTimes() {
    List<String> statements = SampleDatabase.schemaStatements();

    assertThat(statements)
        .extracting(sql -> sql.substring(0, sql.indexOf('(')).strip())
        .containsExactly(
            "CREATE TABLE profiles",
            "CREATE TABLE interests",
            "CREATE TABLE messages",
            "CREATE TABLE logins",
            "CREATE TABLE reports");
    assertThat(statements)
        .allSatisfy(
            sql -> assertThat(sql).contains("PRIMARY KEY", "created_at DATETIME(3) NOT NULL"));
    assertThat(statements).noneMatch(sql -> sql.contains("--"));
  }

  @Test
  void aDatabaseNameThatCouldInjectSqlIsRefused() {
    assertThatThrownBy(() -> new SampleDatabase(MARIADB, "x`; DROP DATABASE y"))
        .isInstanceOf(LakeException.class)
        .hasMessageContaining("letters, digits and underscores");
  }

  @Test
  void optionsNameTheBadValue() {
    assertThatThrownBy(() -> new SampleDatabase.Options(1, 7, 42, Instant.EPOCH))
        .hasMessage("--profiles must be at least 2, but is 1");
    assertThatThrownBy(() -> new SampleDatabase.Options(10, 0, 42, Instant.EPOCH))
        .hasMessage("--days must be at least 1, but is 0");
  }
}
