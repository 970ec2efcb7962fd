package io.lambdalake.stack.testing;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A job in a JVM of its own, for the tests that kill one for real (kill -9) and start it again: it
 * runs with this test JVM's classpath, module openings and lake configuration, the given system
 * properties (a run's table prefix, a failpoint) and arguments, and writes its output to a log.
 */
public final class JobProcesses {
  private JobProcesses() {}

  /**
   * Starts {@code mainClass} with the properties (as {@code -Dkey=value}) and the arguments,
   * appending its output and errors to the log.
   */
  public static Process start(
      Class<?> mainClass, Map<String, String> properties, List<String> arguments, Path log)
      throws IOException {
    requireNonNull(mainClass, "mainClass is null");
    requireNonNull(properties, "properties is null");
    requireNonNull(arguments, "arguments is null");
    requireNonNull(log, "log is null");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx1g");
    for (String argument : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (argument.startsWith("--add-opens")
          || argument.startsWith("-Dlake.conf.dir")
          || argument.startsWith("-XX:+IgnoreUnrecognizedVMOptions")
          || argument.startsWith("-Djdk.reflect")) {
        command.add(argument);
      }
    }
    properties.forEach((key, value) -> command.add("-D" + key + "=" + value));
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass.getName());
    command.addAll(arguments);
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .start();
  }
}
