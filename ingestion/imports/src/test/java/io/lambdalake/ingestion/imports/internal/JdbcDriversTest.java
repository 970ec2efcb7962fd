package io.lambdalake.ingestion.imports.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.jdbc.JdbcDrivers;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The lake finds its bundled JDBC driver itself (spark-submit's class loaders hide it). */
class JdbcDriversTest {
  @Test
  void theBundledMariaDbDriverAcceptsMariaDbUrlsAndSparkIsToldItsClass() {
    String url = "jdbc:mariadb://127.0.0.1:13306/shop";
    assertThat(JdbcDrivers.forUrl(url).getClass().getName()).isEqualTo("org.mariadb.jdbc.Driver");
    Properties read = new Properties();
    read.setProperty("user", "lake");
    Properties forSpark = JdbcDrivers.forSpark(url, read);
    assertThat(forSpark)
        .containsEntry("user", "lake")
        .containsEntry(JdbcDrivers.SPARK_DRIVER_OPTION, "org.mariadb.jdbc.Driver");
    assertThat(read).doesNotContainKey(JdbcDrivers.SPARK_DRIVER_OPTION);
  }

  @Test
  void aUrlNoDriverAcceptsIsOneClearErrorWithoutItsParameters() {
    assertThatThrownBy(
            () -> JdbcDrivers.forUrl("jdbc:postgresql://db.internal:5432/shop?password=hunter2"))
        .isInstanceOf(LakeException.class)
        .hasMessage(
            "No JDBC driver on the class path accepts URLs of the scheme (jdbc:postgresql:): the"
                + " lake bundles MariaDB Connector/J (jdbc:mariadb://host:port/database); add"
                + " another database's driver with spark-submit --jars")
        .satisfies(
            error ->
                assertThat(((LakeException) error).errorCode())
                    .isEqualTo(ErrorCode.INVALID_ARGUMENT));
  }
}
