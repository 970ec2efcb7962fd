package io.lambdalake.serving;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.spark.SparkSettings;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The tables in storage that exist once per source table: the mirrors (under the mirror zone) and
 * the batch layer's MySQL history tables ({@code batch.mysql_history__<database>__<table>}).
 */
final class MirrorTables {
  static final String ZONE = "mirror";
  static final String HISTORY_ZONE = "batch";
  static final String HISTORY_PREFIX = "mysql_history__";

  private MirrorTables() {}

  /** The names of the mirror tables that have a Delta log, sorted. */
  static List<String> list(LakeConfig config) {
    return list(config, ZONE, "");
  }

  /** The names of the history tables that have a Delta log, sorted. */
  static List<String> histories(LakeConfig config) {
    return list(config, HISTORY_ZONE, HISTORY_PREFIX);
  }

  private static List<String> list(LakeConfig config, String zoneName, String prefix) {
    String zone = config.storage().zoneLocation(zoneName);
    Configuration hadoop = new Configuration();
    for (Map.Entry<String, String> setting : SparkSettings.forJob(config).entrySet()) {
      if (setting.getKey().startsWith("spark.hadoop.")) {
        hadoop.set(setting.getKey().substring("spark.hadoop.".length()), setting.getValue());
      }
    }
    List<String> tables = new ArrayList<>();
    try (FileSystem fileSystem = FileSystem.newInstance(URI.create(zone), hadoop)) {
      FileStatus[] entries;
      try {
        entries = fileSystem.listStatus(new Path(zone));
      } catch (FileNotFoundException e) {
        return List.of();
      }
      for (FileStatus entry : entries) {
        if (entry.isDirectory()
            && entry.getPath().getName().startsWith(prefix)
            && fileSystem.exists(new Path(entry.getPath(), "_delta_log"))) {
          tables.add(entry.getPath().getName());
        }
      }
    } catch (IOException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Cannot list the tables at " + zone + ": " + e.getMessage(),
          e);
    }
    tables.sort(null);
    return tables;
  }
}
