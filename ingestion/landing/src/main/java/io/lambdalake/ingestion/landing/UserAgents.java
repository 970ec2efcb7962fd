package io.lambdalake.ingestion.landing;

import java.util.Set;
import nl.basjes.parse.useragent.UserAgent;
import nl.basjes.parse.useragent.UserAgentAnalyzer;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * A user agent becomes browser, browser version, operating system, device class and a bot flag, by
 * Yauaa (one analyzer per executor JVM, with a cache, since it takes seconds to build).
 */
public final class UserAgents implements UDF1<String, Row> {
  private static final long serialVersionUID = 1L;

  public static final StructType TYPE =
      new StructType()
          .add("browser", DataTypes.StringType)
          .add("browser_version", DataTypes.StringType)
          .add("os", DataTypes.StringType)
          .add("device_class", DataTypes.StringType)
          .add("is_bot", DataTypes.BooleanType, false);

  /** Yauaa's device classes for crawlers, scrapers and attack tools. */
  private static final Set<String> BOT_CLASSES =
      Set.of("Robot", "Robot Mobile", "Robot Imitator", "Spy", "Hacker");

  private static final int CACHE_SIZE = 20_000;

  @Override
  public Row call(String userAgent) {
    if (userAgent == null || userAgent.isBlank()) {
      // No user agent at all is no browser: count it as a bot, as analytics tools do.
      return RowFactory.create(null, null, null, "Unknown", true);
    }
    UserAgent parsed = Holder.ANALYZER.parse(userAgent);
    String deviceClass = known(parsed.getValue(UserAgent.DEVICE_CLASS));
    return RowFactory.create(
        known(parsed.getValue(UserAgent.AGENT_NAME)),
        known(parsed.getValue(UserAgent.AGENT_VERSION_MAJOR)),
        known(parsed.getValue(UserAgent.OPERATING_SYSTEM_NAME)),
        deviceClass == null ? "Unknown" : deviceClass,
        deviceClass != null && BOT_CLASSES.contains(deviceClass));
  }

  private static String known(String value) {
    if (value == null || value.isBlank() || value.startsWith("??") || value.equals("Unknown")) {
      return null;
    }
    return value;
  }

  private static final class Holder {
    static final UserAgentAnalyzer ANALYZER =
        UserAgentAnalyzer.newBuilder()
            .hideMatcherLoadStats()
            .withCache(CACHE_SIZE)
            .withField(UserAgent.AGENT_NAME)
            .withField(UserAgent.AGENT_VERSION_MAJOR)
            .withField(UserAgent.OPERATING_SYSTEM_NAME)
            .withField(UserAgent.DEVICE_CLASS)
            .immediateInitialization()
            .build();
  }
}
