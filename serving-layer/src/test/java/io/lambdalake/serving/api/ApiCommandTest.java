package io.lambdalake.serving.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.common.config.ApiConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.launch.Launcher;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code lake api keys create}: a new key once, and a conf entry that holds only its hash. */
class ApiCommandTest {
  @Test
  void createPrintsTheKeyOnceAndAConfEntryThatAuthenticatesIt(@TempDir Path directory)
      throws IOException {
    StringWriter out = new StringWriter();
    int exit =
        launcher(directory, out, new StringWriter())
            .execute(
                new ApiCommand(),
                "keys",
                "create",
                "--merchant",
                "acme",
                "--tracking-id",
                "LL-ACME-1,LL-ACME-2",
                "--time-zone",
                "America/New_York");

    assertThat(exit).isZero();
    List<String> lines = out.toString().lines().map(String::strip).toList();
    String key = lines.stream().filter(line -> line.startsWith("llk_")).findFirst().orElseThrow();
    assertThat(key).hasSize(47);
    String entry =
        lines.stream().filter(line -> line.startsWith("{ key-hash")).findFirst().orElseThrow();
    assertThat(entry).doesNotContain(key).contains(ApiKeys.hash(key));

    Path conf = directory.resolve("keys.conf");
    Files.writeString(conf, "lake.api.keys = [\n" + entry + "\n]\n");
    ApiConfig api =
        LakeConfigLoader.load(
                Map.of(
                    LakeConfigLoader.CONF_DIRECTORY_VARIABLE, Path.of("..", "conf").toString(),
                    LakeConfigLoader.CONFIG_FILE_VARIABLE, conf.toString()),
                Map.of())
            .api();
    assertThat(new ApiKeys(api.keys()).find(key))
        .contains(
            new ApiConfig.Key(
                ApiKeys.hash(key),
                "acme",
                List.of("LL-ACME-1", "LL-ACME-2"),
                ZoneId.of("America/New_York")));
    assertThat(new ApiKeys(api.keys()).find(key + "x")).isEmpty();
    assertThat(ApiKeys.generate()).isNotEqualTo(ApiKeys.generate());
  }

  @Test
  void badArgumentsAreRefused(@TempDir Path runs) {
    StringWriter err = new StringWriter();
    Launcher launcher = launcher(runs, new StringWriter(), err);
    assertThat(
            launcher.execute(
                new ApiCommand(), "keys", "create", "--merchant", "acme", "--tracking-id", "LL 1"))
        .isEqualTo(2);
    assertThat(err.toString())
        .isEqualTo(
            "lake api keys create: --tracking-id 'LL 1' must be 1 to 64 letters, digits, '-' and"
                + " '_'\n");
    assertThat(
            launcher.execute(
                new ApiCommand(),
                "keys",
                "create",
                "--merchant",
                "acme",
                "--tracking-id",
                "LL-1",
                "--time-zone",
                "Mars/Olympus"))
        .isEqualTo(2);
  }

  private static Launcher launcher(Path runs, StringWriter out, StringWriter err) {
    return new Launcher(
        Map.of(),
        Map.of("lake.runs.directory", runs.resolve("runs").toString()),
        new PrintWriter(out, true),
        new PrintWriter(err, true),
        Clock.systemUTC());
  }
}
