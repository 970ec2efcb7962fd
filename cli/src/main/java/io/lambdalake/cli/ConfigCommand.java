package io.lambdalake.cli;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.launch.Job;
import io.lambdalake.common.launch.JobContext;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code lake config [KEY]}: the effective configuration, after files and environment. */
@Command(
    name = "config",
    description = "Print the effective configuration (secrets masked), or the value of one key.")
final class ConfigCommand implements Job {
  @Spec CommandSpec spec;

  @Parameters(arity = "0..1", paramLabel = "KEY", description = "One key, e.g. lake.s3.bucket.")
  String key;

  @Override
  public void run(JobContext context) {
    Map<String, String> values = values(context.config());
    PrintWriter out = spec.commandLine().getOut();
    if (key == null) {
      values.forEach((name, value) -> out.println(name + " = " + value));
    } else if (values.containsKey(key)) {
      out.println(values.get(key));
    } else {
      throw new LakeException(
          ErrorCode.INVALID_ARGUMENT, "No configuration key " + key + "; `lake config` lists them");
    }
    out.flush();
  }

  private static Map<String, String> values(LakeConfig config) {
    Map<String, String> values = new LinkedHashMap<>();
    values.put("lake.local-dir", config.localDirectory().toString());
    values.put("lake.kafka.bootstrap-servers", config.kafka().bootstrapServers());
    values.put("lake.s3.endpoint", config.s3().endpoint().orElse(""));
    values.put("lake.s3.region", config.s3().region());
    values.put("lake.s3.access-key", config.s3().accessKey().isPresent() ? "(set)" : "");
    values.put("lake.s3.secret-key", config.s3().secretKey().isPresent() ? "(set)" : "");
    values.put("lake.s3.path-style-access", Boolean.toString(config.s3().pathStyleAccess()));
    values.put("lake.s3.bucket", config.s3().bucket());
    values.put("lake.storage.root", config.storage().root());
    values.put("lake.storage.checkpoints", config.storage().checkpoints());
    values.put("lake.topics.events-prefix", config.topics().eventsPrefix());
    values.put("lake.topics.events-other", config.topics().eventsOther());
    values.put("lake.topics.events-quarantine", config.topics().eventsQuarantine());
    values.put("lake.topics.cdc-maxwell-prefix", config.topics().cdcMaxwellPrefix());
    values.put("lake.trino.url", config.trino().url());
    values.put("lake.trino.user", config.trino().user());
    values.put("lake.trino.catalog", config.trino().catalog());
    values.put("lake.trino.schema-prefix", config.trino().schemaPrefix());
    values.put("lake.mariadb.host", config.mariaDb().host());
    values.put("lake.mariadb.port", Integer.toString(config.mariaDb().port()));
    values.put("lake.spark.master", config.spark().master());
    values.put("lake.collector.host", config.collector().host());
    values.put("lake.collector.port", Integer.toString(config.collector().port()));
    values.put("lake.api.host", config.api().host());
    values.put("lake.api.port", Integer.toString(config.api().port()));
    values.put("lake.airflow.url", config.airflow().url());
    values.put("lake.airflow.user", config.airflow().user());
    values.put("lake.airflow.password", "(set)");
    values.put("lake.airflow.backfill-dag", config.airflow().backfillDag());
    values.put("lake.consumers.sample-database", config.consumers().sampleDatabase());
    values.put("lake.runs.directory", config.launch().runsDirectory().toString());
    values.put("lake.preflight.timeout", config.launch().preflightTimeout().toString());
    return values;
  }
}
