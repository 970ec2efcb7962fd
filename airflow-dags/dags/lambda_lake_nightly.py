"""
### lambda_lake_nightly: the nightly recompute, checked, then served

Every night (00:30 UTC) for the day that just ended:

1. **recompute**: the batch job (`io.lambdalake.batch.BatchJob` from the jobs jar in the Airflow
   variable `lake_jobs_jar`) recomputes that day and the `late_days` before it, for events
   that arrived late, and every older covered day whose events landed since it was last computed
   (the dirty hours, from `raw.events`' Delta log), through `spark-submit` and the
   `spark_default` connection, then advances `batch.coverage`;
2. **verify**: `lake verify` compares the served views with a recompute over the same range; a
   difference fails the run (exit code 3, no retry: the data, not the weather, is wrong);
3. **serving_init**: `lake serving init` registers any new table in Trino.

Each step retries with exponential backoff only when the lake says retrying may help (exit code
75: a server was unavailable); a bad argument (2), a failed quality check (3) or a bug (70) fails
it at once (`lambda_lake.exit_codes`). Rerun a past night with Airflow's own
backfill over this DAG (`airflow backfill create --dag-id lambda_lake_nightly --from-date ...`):
the range follows each run's data interval, not the wall clock.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pendulum

from airflow.sdk import DAG, Param
from airflow.timetables.trigger import CronTriggerTimetable
from lambda_lake.batch import BatchJobOperator
from lambda_lake.cli import LakeCliOperator

# The range of a run: the day before it was due (scheduled) or triggered, and the late-event
# window before that day.
FIRST_DAY = "{{ macros.ds_add(macros.ds_add((logical_date or dag_run.run_after) | ds, -1), -params.late_days) }}"
LAST_DAY = "{{ macros.ds_add((logical_date or dag_run.run_after) | ds, -1) }}"

with DAG(
    dag_id=Path(__file__).stem,
    doc_md=__doc__,
    description="Nightly batch recompute with the late-event window, lake verify, serving init",
    # A run is due at 00:30 UTC and covers the day before: logical date = the moment it is due.
    schedule=CronTriggerTimetable("30 0 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["lambda-lake", "batch", "nightly"],
    params={
        "late_days": Param(
            2,
            type="integer",
            minimum=0,
            maximum=30,
            title="Late days",
            description="Also recompute this many days before the night's day, for late events.",
        ),
        "logic_version": Param("batch-1", type="string", minLength=1, title="Logic version"),
    },
    default_args={
        "retries": 3,
        "retry_delay": datetime.timedelta(minutes=2),
        "retry_exponential_backoff": True,
        "max_retry_delay": datetime.timedelta(minutes=30),
    },
) as dag:
    recompute = BatchJobOperator(
        task_id="recompute",
        name="lambda-lake-nightly",
        application_args=[
            "--from",
            FIRST_DAY,
            "--to",
            LAST_DAY,
            "--logic-version",
            "{{ params.logic_version }}",
        ],
    )

    verify = LakeCliOperator(
        task_id="verify",
        bash_command=f'"{{{{ var.value.lake_cli }}}}" verify --from {FIRST_DAY} --to {LAST_DAY}',
    )

    serving_init = LakeCliOperator(
        task_id="serving_init",
        bash_command='"{{ var.value.lake_cli }}" serving init',
    )

    recompute >> verify >> serving_init
