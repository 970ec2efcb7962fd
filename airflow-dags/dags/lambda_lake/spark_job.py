"""Every Spark step of the DAGs: ``spark-submit`` of one class of the lake's jobs jar."""

from __future__ import annotations

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

from lambda_lake.exit_codes import fail_unless_retryable

JOBS_JAR = "{{ var.value.lake_jobs_jar }}"
CONFIG_FILE_KEY = "spark.lake.config.file"
CONFIG_FILE = "{{ var.value.get('lake_config_file', '') }}"

# The class of each lake command that runs Spark (docs/deployment.md, "The jobs jar").
JOB_CLASSES = {
    "batch": "io.lambdalake.batch.BatchJob",
    "cdc": "io.lambdalake.ingestion.cdc.CdcJob",
    "import-jdbc": "io.lambdalake.ingestion.imports.JdbcImportJob",
    "import-files": "io.lambdalake.ingestion.imports.FilesImportJob",
    "import-mongoexport": "io.lambdalake.ingestion.imports.MongoExportJob",
}


class LakeJobOperator(SparkSubmitOperator):
    """
    ``spark-submit --class <job> <jobs jar>`` through the ``spark_default`` connection (its master
    and deploy mode decide where the driver runs: local mode on one machine, a standalone master,
    YARN or Kubernetes), with the job's options as ``application_args``. The Airflow variable
    ``lake_jobs_jar`` names the jar (a local path, or an ``s3a://``/``hdfs://`` URL a cluster can
    fetch), and ``lake_config_file``, when set, reaches the driver in every deploy mode as
    ``spark.lake.config.file`` (an ``s3a://`` URL, or a name shipped with ``files``). The worker
    needs a Spark client only: no checkout, no build, no Spark inside Airflow's own process.

    The job's exit code decides (``lambda_lake.exit_codes``): a bad argument (2), a failed quality
    check (3) or a bug (70) fails the task at once, since retrying the same input cannot pass it,
    while a server unavailable (75), a lost executor or a driver the cluster reports failed is
    retried as the task's ``retries`` say.
    """

    def __init__(self, *, command: str, **kwargs) -> None:
        if command not in JOB_CLASSES:
            raise ValueError(f"no Spark job for lake {command!r}; one of {sorted(JOB_CLASSES)}")
        self.command = command
        kwargs.setdefault("conn_id", "spark_default")
        kwargs.setdefault("application", JOBS_JAR)
        kwargs.setdefault("java_class", JOB_CLASSES[command])
        # Spark's INFO lines would flood the task log (each goes through Airflow's logging); the
        # job's own progress lines are printed, not logged, and stay.
        kwargs["conf"] = {"spark.log.level": "WARN", CONFIG_FILE_KEY: CONFIG_FILE, **kwargs.get("conf", {})}
        super().__init__(**kwargs)

    def execute(self, context):
        # Rendered by now: an unset lake_config_file leaves the driver to LAKE_CONFIG_FILE and the
        # environment, as the CLI does, rather than naming an empty file.
        if not str(self.conf.get(CONFIG_FILE_KEY, "")).strip():
            self.conf = {key: value for key, value in self.conf.items() if key != CONFIG_FILE_KEY}
        # An argument a Jinja condition rendered empty (an optional flag left off) is left out.
        self.application_args = [arg for arg in (self.application_args or []) if str(arg).strip()]
        try:
            return super().execute(context)
        except Exception as error:  # the hook's AirflowException, whichever module it comes from
            fail_unless_retryable(error, f"lake {self.command} ({self.task_id})")
            raise
