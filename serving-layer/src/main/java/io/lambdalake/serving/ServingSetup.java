package io.lambdalake.serving;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.table.LakeTable;
import io.lambdalake.spark.DeltaTables;
import java.io.PrintWriter;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.spark.sql.SparkSession;

/**
 * What {@code lake serving init} does: registers in Trino every Delta table the pipeline wrote,
 * creates the tables the serving views read that no job has written yet (empty, with the writer's
 * own columns and properties, so the views work on an empty lake), then creates or replaces every
 * serving view. Idempotent: safe to run at any time, also while the jobs run.
 */
public final class ServingSetup {
  private final LakeConfig config;
  private final TrinoCatalog catalog;

  public ServingSetup(LakeConfig config) {
    this.config = requireNonNull(config, "config is null");
    this.catalog = new TrinoCatalog(config);
  }

  /**
   * Runs the setup; {@code spark} is asked for a session only when a table the views need is
   * missing.
   */
  public void run(Supplier<SparkSession> spark, PrintWriter out) {
    requireNonNull(spark, "spark is null");
    requireNonNull(out, "out is null");
    Set<LakeTable> needed = new LinkedHashSet<>();
    for (ServingView view : ServingView.values()) {
      needed.addAll(view.tables());
    }
    for (LakeTable table : LakeTable.values()) {
      TrinoCatalog.Registration registration = catalog.register(table);
      if (registration == TrinoCatalog.Registration.NOT_WRITTEN_YET && needed.contains(table)) {
        // The first commit of an empty table: its writer finds it and appends to it later.
        DeltaTables.ensure(spark.get(), config, table);
        registration = catalog.register(table);
        report(out, catalog.displayName(table), describe(registration) + " (created empty)");
      } else {
        report(out, catalog.displayName(table), describe(registration));
      }
    }
    // Mirrors of CDC and imports: one table per source table, found in storage.
    for (String mirror : MirrorTables.list(config)) {
      TrinoCatalog.Registration registration =
          catalog.register(
              MirrorTables.ZONE, mirror, config.storage().tableLocation(MirrorTables.ZONE, mirror));
      report(
          out,
          config.trino().catalog() + "." + config.trino().schema(MirrorTables.ZONE) + "." + mirror,
          describe(registration));
    }
    // The batch layer's daily history of each mirrored MySQL table.
    for (String history : MirrorTables.histories(config)) {
      TrinoCatalog.Registration registration =
          catalog.register(
              MirrorTables.HISTORY_ZONE,
              history,
              config.storage().tableLocation(MirrorTables.HISTORY_ZONE, history));
      report(
          out,
          config.trino().catalog()
              + "."
              + config.trino().schema(MirrorTables.HISTORY_ZONE)
              + "."
              + history,
          describe(registration));
    }
    for (ServingView view : ServingView.values()) {
      catalog.createView(view);
      report(
          out,
          config.trino().catalog() + "." + view.qualifiedName(config.trino()),
          "view created or replaced");
    }
  }

  private static String describe(TrinoCatalog.Registration registration) {
    return switch (registration) {
      case REGISTERED -> "registered";
      case ALREADY_REGISTERED -> "already registered";
      case NOT_WRITTEN_YET -> "not written yet (registered by a later run)";
    };
  }

  private static void report(PrintWriter out, String name, String outcome) {
    out.printf("%-30s %s%n", name, outcome);
    out.flush();
  }
}
