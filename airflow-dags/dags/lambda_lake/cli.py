"""The lake command line as a task: ``lake <command>`` through bash, retried only when retryable."""

from __future__ import annotations

from airflow.providers.standard.operators.bash import BashOperator

from lambda_lake.exit_codes import fail_unless_retryable


class LakeCliOperator(BashOperator):
    """
    A ``BashOperator`` that runs the lake CLI (the Airflow variable ``lake_cli``) and fails without
    retry when ``lake`` exits with a code that retrying cannot change (2, 3, 70); exit code 75 (a
    server unavailable) and anything outside the table are retried as the task's ``retries`` say.
    """

    def execute(self, context):
        try:
            return super().execute(context)
        except Exception as error:  # BashOperator's AirflowException names the exit code
            fail_unless_retryable(error, f"lake ({self.task_id})")
            raise
