"""
### lambda_lake_cdc_reconcile: every mirror against its source, daily, and what it fixed

Every day (04:00 UTC) `lake cdc reconcile` (`spark-submit` of the CDC job's class from the jobs
jar, `lambda_lake.spark_job`) compares each MariaDB mirror (`mirror.<db>__<table>`)
with its source table, range by range of the primary key: the row count and the checksums of one
aggregate query on the source against the same figures Spark computes on the mirror. The ranges
that differ are resynced from the source with a MERGE, stamped with the binlog position read before
the rows, so CDC goes on after it. The task log holds a line per table and the report (tables
checked, ranges checked and differing, rows inserted, updated and deleted); the run record keeps the
same counts.

`lake cdc reconcile` refuses (exit code 2, no retry) while a `lake cdc` stream writes the databases
(one writer per table): schedule it in a window where CDC is stopped, or set `dry_run`, which only
compares and fails the run with exit code 3 when a mirror differs. A table without a primary key,
or with a column no checksum agrees on in both engines (FLOAT, DOUBLE, TIME), is skipped and named
in the log. A server unavailable (exit code 75) is retried.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pendulum

from airflow.sdk import DAG, Param
from airflow.timetables.trigger import CronTriggerTimetable
from lambda_lake.spark_job import LakeJobOperator

# `lake cdc reconcile` under spark-submit (the CDC job's class): an argument that renders empty is
# left out, so the last one adds --dry-run only when asked.
RECONCILE = [
    "reconcile",
    "--databases",
    "{{ params.databases }}",
    "--ranges",
    "{{ params.ranges }}",
    "{% if params.dry_run %}--dry-run{% endif %}",
]

with DAG(
    dag_id=Path(__file__).stem,
    doc_md=__doc__,
    description="Daily lake cdc reconcile: mirrors against their sources, differing ranges resynced",
    schedule=CronTriggerTimetable("0 4 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["lambda-lake", "cdc", "reconcile"],
    params={
        "databases": Param(
            "[^.]+",
            type="string",
            minLength=1,
            pattern="^[^']+$",
            title="Databases",
            description="Regular expression of the source databases whose mirrors to check.",
        ),
        "ranges": Param(16, type="integer", minimum=1, maximum=100000, title="Key ranges per table"),
        "dry_run": Param(False, type="boolean", title="Compare only, change nothing"),
    },
    default_args={
        "retries": 3,
        "retry_delay": datetime.timedelta(minutes=5),
        "retry_exponential_backoff": True,
        "max_retry_delay": datetime.timedelta(minutes=30),
    },
) as dag:
    LakeJobOperator(
        task_id="reconcile", command="cdc", name="lambda-lake-cdc-reconcile", application_args=RECONCILE
    )
