"""
### lambda_lake_backfill: recompute a range of days after a logic fix

Recomputes the batch views (`batch.events_hourly`, `batch.pages_hourly`) from `raw.events` for
every day from `from` to `to` (UTC, inclusive), **one task per day**: a day that fails is retried
and can be cleared alone, and the others keep what they published. Each day is the batch job
(`io.lambdalake.batch.BatchJob`, from the jobs jar in the Airflow variable `lake_jobs_jar`)
run by `spark-submit` through the `spark_default` connection: local mode on one machine, YARN or
Kubernetes on a cluster by changing that connection only.

Days run one at a time by default: Delta on S3 with the default log store is safe for one writer
per table (see docs/design.md). Raise `max_active_tis_per_dag` only with a log store that
coordinates commits. `batch.coverage` moves forward only while the recomputed days join what it covers.

Trigger it from the UI (*Trigger DAG w/ config*) or with `lake backfill --from D1 --to D2`.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pendulum

from airflow.sdk import DAG, Param, get_current_context, task
from lambda_lake.batch import BatchJobOperator

VIEWS = ["events_hourly", "pages_hourly"]
# A backfill longer than this is most likely a typo in a date.
MAX_DAYS = 400


def day_arguments(first: str, last: str, logic_version: str, views: list[str]) -> list[list[str]]:
    """The batch job's arguments (BatchJob.Options) for each day of the range, oldest first."""
    try:
        start = datetime.date.fromisoformat(first)
        end = datetime.date.fromisoformat(last)
    except (TypeError, ValueError) as error:
        raise ValueError(f"from and to must be dates like 2026-11-01: {error}") from None
    if end < start:
        raise ValueError(f"to {end} is before from {start}")
    if (end - start).days + 1 > MAX_DAYS:
        raise ValueError(f"{(end - start).days + 1} days is more than {MAX_DAYS}; split the backfill")
    if not logic_version or not logic_version.strip():
        raise ValueError("logic_version is empty")
    if sorted(set(views)) != sorted(VIEWS):
        # The batch job recomputes its views together and moves one coverage for both.
        raise ValueError(f"views must be all of {VIEWS} (the job recomputes them together), got {views}")
    days = [start + datetime.timedelta(days=offset) for offset in range((end - start).days + 1)]
    return [
        ["--from", day.isoformat(), "--to", day.isoformat(), "--logic-version", logic_version]
        for day in days
    ]


with DAG(
    dag_id=Path(__file__).stem,
    doc_md=__doc__,
    description="Recompute the batch views of a range of days, one task per day",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["lambda-lake", "batch", "backfill"],
    params={
        "from": Param(type="string", format="date", title="First day (UTC)"),
        "to": Param(type="string", format="date", title="Last day (UTC, inclusive)"),
        "logic_version": Param(
            "batch-1",
            type="string",
            minLength=1,
            title="Logic version",
            description="Written on every recomputed row; name the fix you are backfilling.",
        ),
        "views": Param(
            VIEWS,
            type="array",
            items={"type": "string", "enum": VIEWS},
            title="Views",
            description="The batch views to recompute (the job recomputes them together).",
        ),
    },
    default_args={
        "retries": 2,
        "retry_delay": datetime.timedelta(minutes=1),
        "retry_exponential_backoff": True,
        "max_retry_delay": datetime.timedelta(minutes=15),
    },
) as dag:

    @task(retries=0)
    def plan_days() -> list[list[str]]:
        """Checks the params and lists the batch job's arguments, one entry per day."""
        params = get_current_context()["params"]
        return day_arguments(params["from"], params["to"], params["logic_version"], params["views"])

    BatchJobOperator.partial(
        task_id="recompute_day",
        name="lambda-lake-backfill",
        max_active_tis_per_dag=1,
        map_index_template="{{ task.application_args[1] }}",
    ).expand(application_args=plan_days())
