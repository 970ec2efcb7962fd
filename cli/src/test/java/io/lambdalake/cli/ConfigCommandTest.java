package io.lambdalake.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

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
  }

  private static String value(String key) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CommandLine command = new CommandLine(new ConfigCommand());
    command.setOut(new PrintWriter(out, true, UTF_8));
    int exit = command.execute(key);
    assertThat(exit).as("lake config %s", key).isZero();
    return out.toString(UTF_8).trim();
  }
}
