"""
### lambda_lake_import: the bulk imports listed in conf

Runs each import job of `conf/airflow/imports.json` (the Airflow variable `lake_imports`, a JSON
list) with `spark-submit` of its class from the jobs jar (`lambda_lake.spark_job`, the
`spark_default` connection: the import runs on the cluster, not inside the Airflow worker), one
task per job, so a failed import is retried or cleared alone. Only a server unavailable (exit code
75) is retried; a bad argument (2) or a bug (70) fails the task at once:

```json
[
  {"name": "shop_orders", "command": "import-jdbc",
   "args": ["--connect", "jdbc:mariadb://127.0.0.1:13306/shop", "--username", "lake",
            "--password-file", "/etc/lake/shop.password", "--table", "orders",
            "--incremental", "append", "--check-column", "id", "--target", "raw.shop_orders"]},
  {"name": "crm_customers", "command": "import-mongoexport",
   "args": ["--input", "s3a://exports/customers.json", "--target", "mirror.crm__customers"]}
]
```

Commands are `import-jdbc`, `import-files` and `import-mongoexport` (`lake <command> --help`).
Passwords never appear here: JDBC imports read `--password-file`. Incremental imports keep their
last value in `state.import_progress`, so a daily run continues where the last one stopped.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pendulum

from airflow.sdk import DAG, Variable, task
from airflow.timetables.trigger import CronTriggerTimetable
from lambda_lake.spark_job import LakeJobOperator

COMMANDS = ("import-jdbc", "import-files", "import-mongoexport")


def import_jobs(jobs: object) -> list[dict]:
    """One task's arguments per import job; refuses a malformed list with the job at fault."""
    if not isinstance(jobs, list):
        raise ValueError("lake_imports must be a JSON list of import jobs")
    commands = []
    names = set()
    for position, job in enumerate(jobs):
        where = f"import job #{position + 1}"
        if not isinstance(job, dict):
            raise ValueError(f"{where} is not an object")
        name = job.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{where} has no name")
        if name in names:
            raise ValueError(f"{where}: the name {name} is used twice")
        names.add(name)
        command = job.get("command")
        if command not in COMMANDS:
            raise ValueError(f"{where} ({name}): command must be one of {COMMANDS}, got {command!r}")
        args = job.get("args", [])
        if not isinstance(args, list) or not all(isinstance(arg, str) for arg in args):
            raise ValueError(f"{where} ({name}): args must be a list of strings")
        if any(arg == "--password" or arg.startswith("--password=") for arg in args):
            raise ValueError(f"{where} ({name}): no --password in conf; use --password-file")
        commands.append(
            {"command": command, "application_args": args, "name": f"lambda-lake-import-{name}"}
        )
    return commands


with DAG(
    dag_id=Path(__file__).stem,
    doc_md=__doc__,
    description="Bulk imports (JDBC, Sqoop files, mongoexport) listed in conf/airflow/imports.json",
    schedule=CronTriggerTimetable("0 2 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["lambda-lake", "import"],
    default_args={
        "retries": 2,
        "retry_delay": datetime.timedelta(minutes=5),
        "retry_exponential_backoff": True,
    },
) as dag:

    @task(retries=0)
    def plan_imports() -> list[dict]:
        """Reads the job list at run time (never at import time) and checks it."""
        return import_jobs(Variable.get("lake_imports", default="[]", deserialize_json=True))

    LakeJobOperator.partial(task_id="run_import", max_active_tis_per_dag=2).expand_kwargs(
        plan_imports()
    )
