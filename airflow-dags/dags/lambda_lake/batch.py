"""The batch job under spark-submit, as the DAGs run it."""

from __future__ import annotations

import re

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sdk.exceptions import AirflowFailException

BATCH_JOB_CLASS = "io.lambdalake.batch.BatchJob"
BATCH_JOB_JAR = "{{ var.value.lake_batch_job_jar }}"
# BatchCommand.QUALITY_CHECK_FAILED_EXIT_CODE: the job checked the day and refused to publish it.
QUALITY_CHECK_FAILED_EXIT_CODE = 4
_EXIT_CODE = re.compile(r"Error code is: (\d+)")


class BatchJobOperator(SparkSubmitOperator):
    """
    ``spark-submit`` of ``io.lambdalake.batch.BatchJob`` from the job jar, through the
    ``spark_default`` connection; ``application_args`` are the job's options (``--from``, ``--to``,
    ``--logic-version``). A failed quality check fails the task at once: retrying the same input
    cannot pass it, while a lost executor or an S3 hiccup is retried as usual.
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
            exit_code = _EXIT_CODE.search(str(error))
            if exit_code and int(exit_code.group(1)) == QUALITY_CHECK_FAILED_EXIT_CODE:
                raise AirflowFailException(
                    "Quality check failed, nothing published (the batch job's reason is in the log"
                    " above, 'lake batch: Quality check failed ...'); fix raw.events, then clear this task"
                ) from error
            raise
