package io.lambdalake.common.jdbc;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.SQLException;
import java.util.Properties;
import java.util.ServiceLoader;

/**
 * The JDBC driver of a URL, found among the drivers on the class path of the lake's own classes,
 * never through {@link java.sql.DriverManager}'s. Under spark-submit the jobs jar is loaded by
 * Spark's child class loader: DriverManager, initialised before it, does not know the drivers the
 * jar bundles and does not hand a driver to classes of another loader, so {@code
 * DriverManager.getConnection} fails with "No suitable driver" on a cluster (and under spark-submit
 * in local mode) although the driver is in the jar. Spark's JDBC source takes the driver's class
 * name as its {@code driver} option and registers it itself on every executor.
 */
public final class JdbcDrivers {
  /** Spark's JDBC option naming the driver class. */
  public static final String SPARK_DRIVER_OPTION = "driver";

  private JdbcDrivers() {}

  /** The driver that accepts the URL; a clear error when none on the class path does. */
  public static Driver forUrl(String url) {
    requireNonNull(url, "url is null");
    for (Driver driver : ServiceLoader.load(Driver.class, JdbcDrivers.class.getClassLoader())) {
      try {
        if (driver.acceptsURL(url)) {
          return driver;
        }
      } catch (SQLException e) {
        // This driver cannot tell: try the next one.
      }
    }
    throw new LakeException(
        ErrorCode.INVALID_ARGUMENT,
        "No JDBC driver on the class path accepts URLs of the scheme ("
            + scheme(url)
            + "): the lake bundles MariaDB Connector/J (jdbc:mariadb://host:port/database); add"
            + " another database's driver with spark-submit --jars");
  }

  /** A connection through the URL's driver, as {@code DriverManager.getConnection} would make. */
  public static Connection connect(String url, Properties properties) throws SQLException {
    Connection connection = forUrl(url).connect(url, requireNonNull(properties, "properties"));
    if (connection == null) {
      throw new SQLException("The driver of " + scheme(url) + " did not accept the URL");
    }
    return connection;
  }

  /** A connection with a user and a password. */
  public static Connection connect(String url, String user, String password) throws SQLException {
    Properties properties = new Properties();
    properties.setProperty("user", requireNonNull(user, "user is null"));
    properties.setProperty("password", requireNonNull(password, "password is null"));
    return connect(url, properties);
  }

  /** A copy of Spark JDBC read properties naming the URL's driver class ({@code driver}). */
  public static Properties forSpark(String url, Properties properties) {
    Properties copy = (Properties) requireNonNull(properties, "properties is null").clone();
    copy.setProperty(SPARK_DRIVER_OPTION, forUrl(url).getClass().getName());
    return copy;
  }

  /** The URL up to its host: {@code jdbc:postgresql:}; never a password of its parameters. */
  private static String scheme(String url) {
    int hosts = url.indexOf("//");
    return hosts < 0 ? url.substring(0, Math.min(url.length(), 16)) : url.substring(0, hosts);
  }
}
