package io.lambdalake.ingestion.imports;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.launch.Launcher;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class JdbcImportCommandTest {
  @Test
  void aPasswordOnTheCommandLineIsRefusedWithoutEchoingIt(@TempDir Path runs) throws IOException {
    StringWriter err = new StringWriter();
    Launcher launcher =
        new Launcher(
            Map.of(),
            Map.of("lake.runs.directory", runs.toString()),
            new PrintWriter(new StringWriter()),
            new PrintWriter(err),
            Clock.systemUTC());

    int exit =
        launcher.execute(
            new JdbcImportCommand(),
            "--connect",
            "jdbc:mariadb://127.0.0.1:3306/shop",
            "--username",
            "lake",
            "--password",
            "s3cret-value",
            "--table",
            "orders",
            "--target",
            "raw.orders");

    assertThat(exit).isEqualTo(2);
    assertThat(err.toString())
        .contains("--password is not accepted")
        .contains("--password-file")
        .doesNotContain("s3cret-value");
    assertThat(Files.readString(runs.resolve("import-jdbc/latest.json"), UTF_8))
        .contains("\"--password\", \"****\"")
        .doesNotContain("s3cret-value");
  }

  @Test
  void aPasswordInTheJdbcUrlIsRefused() {
    assertThatThrownBy(
            () ->
                CommandLine.populateCommand(
                        new JdbcImportCommand(),
                        "--connect",
                        "jdbc:mariadb://127.0.0.1:3306/shop?user=lake&password=s3cret",
                        "--table",
                        "orders",
                        "--target",
                        "raw.orders")
                    .options())
        .isInstanceOf(LakeException.class)
        .hasMessageContaining("--connect must not carry a password");
  }

  @Test
  void sqoopRulesForQueriesAndIncrementalImports() {
    assertThatThrownBy(() -> options("--query", "SELECT * FROM orders", "--target", "raw.orders"))
        .hasMessageContaining("$CONDITIONS");
    assertThatThrownBy(
            () -> options("--table", "orders", "--incremental", "append", "--target", "raw.orders"))
        .hasMessageContaining("--check-column");
    assertThatThrownBy(
            () ->
                options(
                    "--table",
                    "orders",
                    "--incremental",
                    "append",
                    "--check-column",
                    "id",
                    "--target",
                    "mirror.shop__orders"))
        .hasMessageContaining("full snapshot");
    assertThatThrownBy(() -> options("--table", "orders", "--target", "mirror.orders"))
        .hasMessageContaining("mirror.<database>__<table>");
    assertThat(options("--table", "orders", "--target", "raw.orders").toString())
        .doesNotContain("password=Optional[");
  }

  private static JdbcImportJob.Options options(String... arguments) {
    String[] all = new String[arguments.length + 2];
    all[0] = "--connect";
    all[1] = "jdbc:mariadb://127.0.0.1:3306/shop";
    System.arraycopy(arguments, 0, all, 2, arguments.length);
    return CommandLine.populateCommand(new JdbcImportCommand(), all).options();
  }
}
