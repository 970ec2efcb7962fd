"""
The lake's exit codes, as ``io.lambdalake.common.launch.ExitCode`` defines them for ``lake`` and for
every job's main under spark-submit, and what a task does with them: retry only what may pass
later (75, a server unavailable); fail at once, without retry, on a bad argument (2), a failed
quality check (3) or a bug (70). Codes outside the table (spark-submit's own, a killed driver) are
the cluster's and stay retryable.
"""

from __future__ import annotations

import re

from airflow.sdk.exceptions import AirflowFailException

SUCCESS = 0
USER_ERROR = 2
QUALITY_CHECK_FAILED = 3
INTERNAL_ERROR = 70
EXTERNAL = 75

NOT_RETRYABLE = {
    USER_ERROR: "a bad argument, configuration or input: fix it, then clear this task",
    QUALITY_CHECK_FAILED: (
        "Quality check failed, nothing published: fix the data (the reason is in the log above),"
        " then clear this task"
    ),
    INTERNAL_ERROR: "an internal error of lambda-lake (a bug): the log above has its one line",
}

# SparkSubmitHook: "... Error code is: 3."; BashOperator: "... non-zero exit code 3."
_EXIT_CODE = re.compile(r"(?:Error code is:|non-zero exit code) (\d+)")


def exit_code_of(error: BaseException) -> int | None:
    """The exit code an operator's failure reports, if it names one."""
    found = _EXIT_CODE.search(str(error))
    return int(found.group(1)) if found else None


def fail_unless_retryable(error: BaseException, what: str) -> None:
    """Raises AirflowFailException (no retry) when the exit code says retrying cannot help."""
    code = exit_code_of(error)
    if code in NOT_RETRYABLE:
        raise AirflowFailException(f"{what} exited with {code}: {NOT_RETRYABLE[code]}") from error
