package io.lambdalake.ingestion.imports;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.StorageConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Delta table an import writes, named {@code zone.table} like the lake's tables in Trino, e.g.
 * {@code raw.mysql_snapshots} or the mirror {@code mirror.shop__customers}.
 */
public record ImportTarget(String zone, String table) {
  private static final Pattern NAME = Pattern.compile("[a-z_][a-z0-9_]*");
  private static final Pattern MIRROR = Pattern.compile("([a-z0-9_]+?)__([a-z0-9_]+)");
  public static final String MIRROR_ZONE = "mirror";

  public ImportTarget {
    requireNonNull(zone, "zone is null");
    requireNonNull(table, "table is null");
    if (!NAME.matcher(zone).matches() || !NAME.matcher(table).matches()) {
      throw invalid(zone + "." + table);
    }
    if (zone.equals(MIRROR_ZONE) && !MIRROR.matcher(table).matches()) {
      throw new LakeException(
          ErrorCode.INVALID_ARGUMENT,
          "--target "
              + zone
              + "."
              + table
              + " is not a mirror name: use mirror.<database>__<table>, e.g. mirror.shop__customers");
    }
  }

  /** Parses {@code zone.table}; names are lower case, as Trino and the metastore keep them. */
  public static ImportTarget parse(String name) {
    requireNonNull(name, "name is null");
    int dot = name.indexOf('.');
    if (dot <= 0 || dot != name.lastIndexOf('.')) {
      throw invalid(name);
    }
    return new ImportTarget(name.substring(0, dot), name.substring(dot + 1));
  }

  private static LakeException invalid(String name) {
    return new LakeException(
        ErrorCode.INVALID_ARGUMENT,
        "--target '"
            + name
            + "' is not a lake table name: use zone.table in lower case letters, digits and _,"
            + " e.g. raw.mysql_snapshots or mirror.shop__customers");
  }

  public boolean isMirror() {
    return zone.equals(MIRROR_ZONE);
  }

  /** For a mirror, the source table it mirrors as {@code database.table}. */
  public Optional<String> mirroredTable() {
    if (!isMirror()) {
      return Optional.empty();
    }
    Matcher matcher = MIRROR.matcher(table);
    if (!matcher.matches()) {
      throw new IllegalStateException("not a mirror name: " + table);
    }
    return Optional.of(matcher.group(1) + "." + matcher.group(2));
  }

  public String qualifiedName() {
    return zone + "." + table;
  }

  public String location(StorageConfig storage) {
    return storage.tableLocation(zone, table);
  }

  @Override
  public String toString() {
    return qualifiedName();
  }
}
