package io.lambdalake.serving;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.table.LakeTable;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code lake serving init}: makes every table the pipeline wrote queryable in Trino. */
@Command(
    name = "serving",
    description = "Serving layer in Trino.",
    subcommands = {ServingCommand.Init.class})
public final class ServingCommand {
  @Command(
      name = "init",
      description =
          "Register in Trino every Delta table the pipeline has written (raw, speed, batch,"
              + " mirror),"
              + " creating the schemas. Idempotent: safe to run at any time.")
  static final class Init implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
      LakeConfig config = LakeConfigLoader.load();
      TrinoCatalog catalog = new TrinoCatalog(config);
      PrintWriter out = spec.commandLine().getOut();
      for (LakeTable table : LakeTable.values()) {
        TrinoCatalog.Registration registration = catalog.register(table);
        out.printf(
            "%-22s %s%n",
            config.trino().catalog() + "." + table.qualifiedName(),
            switch (registration) {
              case REGISTERED -> "registered";
              case ALREADY_REGISTERED -> "already registered";
              case NOT_WRITTEN_YET -> "not written yet (registered by a later run)";
            });
      }
      // Mirrors of CDC and imports: one table per source table, found in storage.
      for (String mirror : MirrorTables.list(config)) {
        TrinoCatalog.Registration registration =
            catalog.register(
                MirrorTables.ZONE,
                mirror,
                config.storage().tableLocation(MirrorTables.ZONE, mirror));
        out.printf(
            "%-22s %s%n",
            config.trino().catalog() + "." + MirrorTables.ZONE + "." + mirror,
            registration == TrinoCatalog.Registration.ALREADY_REGISTERED
                ? "already registered"
                : "registered");
      }
      out.flush();
      return 0;
    }
  }
}
