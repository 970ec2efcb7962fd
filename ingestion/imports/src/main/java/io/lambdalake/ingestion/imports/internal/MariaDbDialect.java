package io.lambdalake.ingestion.imports.internal;

import java.util.Locale;
import org.apache.spark.sql.jdbc.JdbcDialects;
import org.apache.spark.sql.jdbc.MySQLDialect;

/**
 * Spark's MySQL dialect for {@code jdbc:mariadb:} URLs too. Spark 4.2 knows MySQL only by {@code
 * jdbc:mysql:}; any other URL falls back to a generic dialect that quotes names with double quotes
 * (which MariaDB reads as strings) and maps types less precisely.
 */
public final class MariaDbDialect extends MySQLDialect {
  private static final long serialVersionUID = 1L;
  private static volatile boolean registered;

  @Override
  public boolean canHandle(String url) {
    String lower = url.toLowerCase(Locale.ROOT);
    return lower.startsWith("jdbc:mariadb") || lower.startsWith("jdbc:mysql");
  }

  /** Registers the dialect once per JVM (it replaces Spark's MySQL dialect, which it extends). */
  public static void register() {
    if (!registered) {
      synchronized (MariaDbDialect.class) {
        if (!registered) {
          JdbcDialects.registerDialect(new MariaDbDialect());
          registered = true;
        }
      }
    }
  }
}
