package io.lambdalake.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.common.launch.Launcher;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every key the scripts read with {@code lake config KEY} is there, with its default. */
class ConfigCommandTest {
  @Test
  void answersTheKeysTheScriptsRead() {
    assertThat(value("lake.mariadb.port")).isEqualTo("13306");
    assertThat(value("lake.api.host")).isEqualTo("127.0.0.1");
    assertThat(value("lake.api.port")).isEqualTo("18095");
    assertThat(value("lake.collector.port")).isEqualTo("18090");
    assertThat(value("lake.airflow.url")).isEqualTo("http://127.0.0.1:18280");
    assertThat(value("lake.consumers.sample-database")).isEqualTo("matrimony");
    assertThat(value("lake.runs.directory")).endsWith(".lake-local/runs");
    assertThat(value("lake.preflight.timeout")).isEqualTo("PT3S");
  }

  private static String value(String key) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int exit =
        new Launcher(
                System.getenv(),
                Map.of(),
                new PrintWriter(out, true, UTF_8),
                new PrintWriter(System.err, true, UTF_8),
                Clock.systemUTC())
            .execute(new ConfigCommand(), key);
    assertThat(exit).as("lake config %s", key).isZero();
    return out.toString(UTF_8).trim();
  }
}
