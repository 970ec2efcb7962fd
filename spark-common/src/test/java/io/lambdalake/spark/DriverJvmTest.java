package io.lambdalake.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class DriverJvmTest {
  @Test
  void theFirstClosedPackageOfJavaBaseIsNamed() {
    List<String> options =
        List.of(
            "-XX:+IgnoreUnrecognizedVMOptions",
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
            "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED");

    assertThat(DriverJvm.missingOpens(options, (module, name) -> !name.equals("sun.util.calendar")))
        .contains("java.base/sun.util.calendar");
    assertThat(DriverJvm.missingOpens(options, (module, name) -> module.equals("java.base")))
        .isEqualTo(Optional.empty());
  }

  @Test
  void sparksOwnOptionsOpenSunUtilCalendar() {
    assertThat(DriverJvm.sparkModuleOptions())
        .contains("--add-opens=java.base/sun.util.calendar=ALL-UNNAMED");
  }

  /** This JVM runs with the build's Spark flags; one started without them is refused. */
  @Test
  void aJvmWithoutTheOptionsIsRefusedAndOneWithThemPasses() throws Exception {
    DriverJvm.requireSparkModuleOptions();

    Result without = check(List.of());
    Result with = check(DriverJvm.sparkModuleOptions());

    assertThat(without.exitCode()).as(without.output()).isEqualTo(1);
    assertThat(without.output())
        .contains("this driver's JVM lacks Spark's Java module options (java.base/")
        .contains("spark.driver.extraJavaOptions=\"")
        .contains("--add-opens=java.base/sun.util.calendar=ALL-UNNAMED");
    assertThat(with.exitCode()).as(with.output()).isZero();
  }

  private static Result check(List<String> options) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(options);
    command.addAll(
        List.of("-cp", System.getProperty("java.class.path"), DriverJvmTest.class.getName()));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(2, TimeUnit.MINUTES)).isTrue();
    return new Result(process.exitValue(), output);
  }

  record Result(int exitCode, String output) {}

  /** The check in a JVM of its own: exit 0 when it passes, 1 with the message when it does not. */
  public static void main(String[] arguments) {
    try {
      DriverJvm.requireSparkModuleOptions();
    } catch (RuntimeException e) {
      System.out.println(e.getMessage());
      System.exit(1);
    }
  }
}
