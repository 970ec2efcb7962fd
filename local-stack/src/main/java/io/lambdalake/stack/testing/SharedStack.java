package io.lambdalake.stack.testing;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeCopy;
import io.lambdalake.stack.LocalStack;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one local stack of a test JVM. scripts/test brings the stack up before the integration tests
 * and down after them, so normally this only checks that every server answers; run from an IDE, it
 * starts what is missing and stops that again when the JVM exits.
 */
public final class SharedStack {
  private static final Logger LOG = LoggerFactory.getLogger(SharedStack.class);
  private static LocalStack stack;

  private SharedStack() {}

  public static synchronized LocalStack get() {
    if (stack == null) {
      LocalStack created = LocalStack.fromConfiguration();
      created.up(
          report ->
              LOG.info(
                  "{} at {} ({})",
                  report.name(),
                  report.address(),
                  report.started() ? "started" : "already running"));
      Runtime.getRuntime().addShutdownHook(new Thread(created::close, "local-stack-shutdown"));
      stack = created;
    }
    return stack;
  }

  public static LakeConfig config() {
    return get().config();
  }

  /**
   * The overrides of a test's own lake in the stack's bucket ({@link LakeCopy}: storage root,
   * checkpoints and schema names of its own), and {@code more} as key, value, key, value, ...
   */
  public static Map<String, String> ownLake(String name, String... more) {
    if (more.length % 2 != 0) {
      throw new IllegalArgumentException("more must be key, value pairs");
    }
    Map<String, String> overrides =
        new LinkedHashMap<>(LakeCopy.overrides(config().s3().bucket(), name));
    for (int i = 0; i < more.length; i += 2) {
      overrides.put(more[i], more[i + 1]);
    }
    return overrides;
  }

  /**
   * As {@link #ownLake}, with event topics of its own too ({@code <name>.events.*}), for a test
   * that sends events through Kafka.
   */
  public static Map<String, String> ownLakeAndEventTopics(String name, String... more) {
    Map<String, String> overrides = ownLake(name, more);
    overrides.put("lake.topics.events-prefix", name + ".events.");
    overrides.put("lake.topics.events-other", name + ".events.other");
    overrides.put("lake.topics.events-quarantine", name + ".events.quarantine");
    return overrides;
  }
}
