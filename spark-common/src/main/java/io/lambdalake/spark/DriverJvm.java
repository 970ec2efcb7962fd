package io.lambdalake.spark;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.util.List;
import java.util.Optional;
import java.util.function.BiPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.launcher.JavaModuleOptions;

/**
 * The driver's JVM has the {@code --add-opens} options Spark needs on Java 17+. spark-submit adds
 * them to every driver it starts itself and Spark to every executor, but a driver that a Spark
 * standalone worker starts in cluster deploy mode gets only what the submission says: without them
 * a job runs for minutes and then fails deep inside Spark (first seen as {@code
 * EXPRESSION_DECODING_FAILED} turning a date into {@code java.sql.Date}, which needs {@code
 * sun.util.calendar}). Checked before the session starts, it is one clear line instead.
 */
public final class DriverJvm {
  private static final Pattern ADD_OPENS =
      Pattern.compile("--add-opens=([\\w.]+)/([\\w.]+)=ALL-UNNAMED");

  private DriverJvm() {}

  /** Fails with what to pass when this JVM lacks an opening of {@code java.base} Spark asks for. */
  public static void requireSparkModuleOptions() {
    Module lake = DriverJvm.class.getModule();
    missingOpens(
            sparkModuleOptions(),
            (module, packageName) ->
                ModuleLayer.boot()
                    .findModule(module)
                    .map(found -> found.isOpen(packageName, lake))
                    .orElse(true))
        .ifPresent(
            missing -> {
              throw new LakeException(
                  ErrorCode.INVALID_CONFIGURATION,
                  "this driver's JVM lacks Spark's Java module options ("
                      + missing
                      + " is not opened), which a Spark standalone worker leaves out of a"
                      + " cluster-mode driver: submit with --conf spark.driver.extraJavaOptions=\""
                      + String.join(" ", sparkModuleOptions())
                      + "\" (docs/deployment.md)");
            });
  }

  /**
   * The first {@code --add-opens} of {@code java.base} among the options that the JVM does not
   * honour, as {@code module/package}. Other modules are left out: a JDK may not have them (Spark
   * asks for {@code java.security.jgss} too, for Kerberos only).
   */
  static Optional<String> missingOpens(List<String> options, BiPredicate<String, String> isOpen) {
    for (String option : options) {
      Matcher matcher = ADD_OPENS.matcher(option);
      if (matcher.matches()
          && matcher.group(1).equals("java.base")
          && !isOpen.test(matcher.group(1), matcher.group(2))) {
        return Optional.of(matcher.group(1) + "/" + matcher.group(2));
      }
    }
    return Optional.empty();
  }

  /** The options Spark's launcher gives every JVM it starts, from the Spark on the class path. */
  public static List<String> sparkModuleOptions() {
    return List.of(JavaModuleOptions.defaultModuleOptionArray());
  }
}
