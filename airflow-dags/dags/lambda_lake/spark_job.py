"""Every Spark step of the DAGs: ``spark-submit`` of one class of the lake's jobs jar."""

from __future__ import annotations

import re

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

from lambda_lake.exit_codes import fail_unless_retryable

JOBS_JAR = "{{ var.value.lake_jobs_jar }}"
CONFIG_FILE_KEY = "spark.lake.config.file"
CONFIG_FILE = "{{ var.value.get('lake_config_file', '') }}"
RUNS_URL = "{{ var.value.get('lake_runs_url', '') }}"

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

    With the Airflow variable ``lake_runs_url`` set (e.g. ``s3a://acme-lake/runs``), each try's run
    record goes to ``<url>/<dag>/<task>/<run>/try-<n>[-<map index>].json`` (``--run-record``): a
    driver in cluster deploy mode runs on a host of the cluster's choice, and its record (status,
    exit code, error, counts) is then where people and tools can read it.

    The job's exit code decides (``lambda_lake.exit_codes``): a bad argument (2), a failed quality
    check (3) or a bug (70) fails the task at once, since retrying the same input cannot pass it,
    while a server unavailable (75), a lost executor or a driver the cluster reports failed is
    retried as the task's ``retries`` say.
    """

    template_fields = (*SparkSubmitOperator.template_fields, "runs_url")

    def __init__(self, *, command: str, runs_url: str = RUNS_URL, **kwargs) -> None:
        if command not in JOB_CLASSES:
            raise ValueError(f"no Spark job for lake {command!r}; one of {sorted(JOB_CLASSES)}")
        self.command = command
        self.runs_url = runs_url
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
        record = run_record_location(str(self.runs_url or ""), context.get("ti"))
        if record:
            self.log.info("The job's run record goes to %s", record)
            self.application_args += ["--run-record", record]
        try:
            return super().execute(context)
        except Exception as error:  # the hook's AirflowException, whichever module it comes from
            fail_unless_retryable(error, f"lake {self.command} ({self.task_id})")
            raise


def run_record_location(runs_url: str, ti) -> str | None:
    """Where a try's run record goes under ``lake_runs_url``, or None when it is not set."""
    if not runs_url.strip() or ti is None:
        return None
    mapped = f"-{ti.map_index}" if getattr(ti, "map_index", -1) >= 0 else ""
    # Run ids hold ':' and '+' (scheduled__2026-12-06T00:30:00+00:00), which a Hadoop path refuses.
    parts = [ti.dag_id, ti.task_id, ti.run_id, f"try-{ti.try_number}{mapped}.json"]
    safe = [re.sub(r"[^A-Za-z0-9._=-]", "_", str(part)) for part in parts]
    return "/".join([runs_url.strip().rstrip("/"), *safe])
