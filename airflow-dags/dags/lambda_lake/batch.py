"""The batch job under spark-submit, as the DAGs run it."""

from __future__ import annotations

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

from lambda_lake.exit_codes import fail_unless_retryable

BATCH_JOB_CLASS = "io.lambdalake.batch.BatchJob"
BATCH_JOB_JAR = "{{ var.value.lake_batch_job_jar }}"


class BatchJobOperator(SparkSubmitOperator):
    """
    ``spark-submit`` of ``io.lambdalake.batch.BatchJob`` from the job jar, through the
    ``spark_default`` connection; ``application_args`` are the job's options (``--from``, ``--to``,
    ``--logic-version``). The job's exit code decides (``lambda_lake.exit_codes``): a failed quality
    check (3), a bad argument (2) or a bug (70) fails the task at once, since retrying the same input
    cannot pass it, while a server unavailable (75) or a lost executor is retried as usual.
    """

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("conn_id", "spark_default")
        kwargs.setdefault("application", BATCH_JOB_JAR)
        kwargs.setdefault("java_class", BATCH_JOB_CLASS)
        # Spark's INFO lines would flood the task log (each goes through Airflow's logging); the
        # job's own progress lines are printed, not logged, and stay.
        kwargs.setdefault("conf", {"spark.log.level": "WARN"})
        super().__init__(**kwargs)

    def execute(self, context):
        try:
            return super().execute(context)
        except Exception as error:  # the hook's AirflowException, whichever module it comes from
            fail_unless_retryable(error, "The batch job")
            raise
