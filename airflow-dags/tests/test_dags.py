"""The DAGs of airflow-dags/dags, parsed by the real Airflow: imports, structure, params, schedules."""

from __future__ import annotations

import pytest
from airflow.dag_processing.dagbag import DagBag

from conftest import DAGS_FOLDER

import lambda_lake_backfill
import lambda_lake_import
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from lambda_lake.batch import BatchJobOperator
from lambda_lake.cli import LakeCliOperator
from lambda_lake.spark_job import LakeJobOperator

EXPECTED_DAGS = {
    "lambda_lake_nightly",
    "lambda_lake_backfill",
    "lambda_lake_import",
    "lambda_lake_cdc_reconcile",
}


@pytest.fixture(scope="module")
def dag_bag() -> DagBag:
    return DagBag(dag_folder=str(DAGS_FOLDER))


def test_every_dag_file_imports_without_errors(dag_bag):
    assert dag_bag.import_errors == {}
    assert set(dag_bag.dag_ids) == EXPECTED_DAGS


@pytest.mark.parametrize("dag_id", sorted(EXPECTED_DAGS))
def test_dag_follows_the_house_rules(dag_bag, dag_id):
    dag = dag_bag.dags[dag_id]
    # One DAG per file, named after it.
    assert dag.fileloc.endswith(f"/{dag_id}.py")
    assert dag.doc_md and dag.doc_md.strip().startswith(f"### {dag_id}")
    assert dag.catchup is False
    assert "lambda-lake" in dag.tags
    assert dag.max_active_runs == 1
    for task in dag.tasks:
        assert task.retry_exponential_backoff or task.retries == 0, task.task_id


def test_nightly_recomputes_then_verifies_then_serves(dag_bag):
    dag = dag_bag.dags["lambda_lake_nightly"]
    assert type(dag.timetable).__name__ == "CronTriggerTimetable"
    assert dag.timetable.summary == "30 0 * * *"
    assert {task.task_id for task in dag.tasks} == {"recompute", "verify", "serving_init"}
    assert dag.get_task("recompute").downstream_task_ids == {"verify"}
    assert dag.get_task("verify").downstream_task_ids == {"serving_init"}
    recompute = dag.get_task("recompute")
    assert isinstance(recompute, SparkSubmitOperator)
    assert recompute._conn_id == "spark_default"
    assert recompute._java_class == "io.lambdalake.batch.BatchJob"
    assert recompute.application == "{{ var.value.lake_jobs_jar }}"
    assert recompute.retries == 3
    # Verify retries when Trino is away; its differences (exit code 3) fail the run at once.
    verify = dag.get_task("verify")
    assert isinstance(verify, LakeCliOperator)
    assert verify.retries == 3
    assert isinstance(dag.get_task("serving_init"), LakeCliOperator)
    assert " verify --from " in verify.bash_command
    assert dag.params.get_param("late_days").value == 2
    assert dag.params.get_param("logic_version").value == "batch-1"


def test_backfill_is_triggered_only_with_typed_params(dag_bag):
    dag = dag_bag.dags["lambda_lake_backfill"]
    assert type(dag.timetable).__name__ == "NullTimetable"
    assert {task.task_id for task in dag.tasks} == {"plan_days", "recompute_day"}
    assert set(dag.params.keys()) == {"from", "to", "logic_version", "views"}
    assert dag.params.get_param("from").schema == {"type": "string", "format": "date", "title": "First day (UTC)"}
    assert dag.params.get_param("logic_version").value == "batch-1"
    assert dag.params.get_param("views").value == ["events_hourly", "pages_hourly"]
    recompute_day = dag.get_task("recompute_day")
    assert type(recompute_day).__name__ == "MappedOperator"
    assert issubclass(recompute_day.operator_class, SparkSubmitOperator)
    assert recompute_day.operator_class is BatchJobOperator
    # One writer per Delta table on S3: one day at a time.
    assert recompute_day.partial_kwargs["max_active_tis_per_dag"] == 1


def test_backfill_plans_one_batch_job_per_day():
    assert lambda_lake_backfill.day_arguments(
        "2026-10-30", "2026-11-01", "fix-42", ["pages_hourly", "events_hourly"]
    ) == [
        ["--from", "2026-10-30", "--to", "2026-10-30", "--logic-version", "fix-42"],
        ["--from", "2026-10-31", "--to", "2026-10-31", "--logic-version", "fix-42"],
        ["--from", "2026-11-01", "--to", "2026-11-01", "--logic-version", "fix-42"],
    ]


@pytest.mark.parametrize(
    ("first", "last", "logic_version", "views", "message"),
    [
        ("2026-11-02", "2026-11-01", "v", lambda_lake_backfill.VIEWS, "to 2026-11-01 is before from 2026-11-02"),
        ("2026-13-01", "2026-11-01", "v", lambda_lake_backfill.VIEWS, "from and to must be dates"),
        ("2020-01-01", "2026-11-01", "v", lambda_lake_backfill.VIEWS, "more than 400"),
        ("2026-11-01", "2026-11-01", " ", lambda_lake_backfill.VIEWS, "logic_version is empty"),
        ("2026-11-01", "2026-11-01", "v", ["pages_hourly"], "views must be all of"),
    ],
)
def test_backfill_refuses_bad_params(first, last, logic_version, views, message):
    with pytest.raises(ValueError, match=message):
        lambda_lake_backfill.day_arguments(first, last, logic_version, views)


def test_import_runs_one_task_per_job_from_conf(dag_bag):
    dag = dag_bag.dags["lambda_lake_import"]
    assert type(dag.timetable).__name__ == "CronTriggerTimetable"
    assert dag.timetable.summary == "0 2 * * *"
    assert {task.task_id for task in dag.tasks} == {"plan_imports", "run_import"}
    # Each import is spark-submit of its job's class from the jobs jar, not Spark inside the worker.
    run_import = dag.get_task("run_import")
    assert run_import.operator_class is LakeJobOperator
    assert lambda_lake_import.import_jobs(
        [
            {"name": "orders", "command": "import-jdbc", "args": ["--table", "orders", "--where", "id > 5"]},
            {"name": "customers", "command": "import-mongoexport", "args": []},
        ]
    ) == [
        {
            "command": "import-jdbc",
            "application_args": ["--table", "orders", "--where", "id > 5"],
            "name": "lambda-lake-import-orders",
        },
        {"command": "import-mongoexport", "application_args": [], "name": "lambda-lake-import-customers"},
    ]
    operator = LakeJobOperator(task_id="run_import", command="import-mongoexport")
    assert operator._java_class == "io.lambdalake.ingestion.imports.MongoExportJob"
    assert operator.application == "{{ var.value.lake_jobs_jar }}"


@pytest.mark.parametrize(
    ("jobs", "message"),
    [
        ({"name": "x"}, "must be a JSON list"),
        ([{"command": "import-jdbc"}], "import job #1 has no name"),
        ([{"name": "a", "command": "rm"}], r"import job #1 \(a\): command must be one of"),
        ([{"name": "a", "command": "import-jdbc", "args": ["--password", "hunter2"]}], "use --password-file"),
        ([{"name": "a", "command": "import-jdbc"}, {"name": "a", "command": "import-files"}], "used twice"),
    ],
)
def test_import_refuses_a_malformed_job_list(jobs, message):
    with pytest.raises(ValueError, match=message):
        lambda_lake_import.import_jobs(jobs)


def test_nightly_range_is_the_day_before_the_run_and_its_late_window(dag_bag):
    import datetime
    from types import SimpleNamespace

    from airflow.sdk.execution_time import macros

    import lambda_lake_nightly

    dag = dag_bag.dags["lambda_lake_nightly"]
    environment = dag.get_template_env()
    due = datetime.datetime(2026, 11, 22, 0, 30, tzinfo=datetime.timezone.utc)

    def render(template, logical_date):
        return environment.from_string(template).render(
            logical_date=logical_date,
            dag_run=SimpleNamespace(run_after=due),
            params={"late_days": 2},
            macros=macros,
        )

    # Scheduled (logical date = when it was due), and triggered by hand (no logical date).
    for logical_date in (due, None):
        assert render(lambda_lake_nightly.LAST_DAY, logical_date) == "2026-11-21"
        assert render(lambda_lake_nightly.FIRST_DAY, logical_date) == "2026-11-19"


def test_batch_job_operator_submits_the_job_jar_and_fails_a_quality_check_without_retry(monkeypatch):
    from airflow.sdk.exceptions import AirflowFailException

    operator = BatchJobOperator(task_id="recompute", application_args=["--from", "2026-11-01"])
    assert operator._conn_id == "spark_default"
    assert operator._java_class == "io.lambdalake.batch.BatchJob"
    assert operator.application == "{{ var.value.lake_jobs_jar }}"
    assert operator.conf == {
        "spark.log.level": "WARN",
        "spark.lake.config.file": "{{ var.value.get('lake_config_file', '') }}",
    }

    def spark_submit_exits_with(code):
        def execute(self, context):
            raise RuntimeError(f"Cannot execute: spark-submit ... Error code is: {code}. Please check the logs.")

        return execute

    monkeypatch.setattr(SparkSubmitOperator, "execute", spark_submit_exits_with(3))
    with pytest.raises(AirflowFailException, match="exited with 3: Quality check failed"):
        operator.execute({})
    for not_retryable in (2, 70):
        monkeypatch.setattr(SparkSubmitOperator, "execute", spark_submit_exits_with(not_retryable))
        with pytest.raises(AirflowFailException, match=f"exited with {not_retryable}: "):
            operator.execute({})
    # A server unavailable (75), and spark-submit's own failures, stay retryable.
    for retryable in (75, 1):
        monkeypatch.setattr(SparkSubmitOperator, "execute", spark_submit_exits_with(retryable))
        with pytest.raises(RuntimeError, match=f"Error code is: {retryable}"):
            operator.execute({})


def test_lake_job_operator_ships_the_config_file_only_when_set_and_leaves_out_empty_arguments(monkeypatch):
    submitted = []

    def record(self, context):
        submitted.append((dict(self.conf), list(self.application_args)))

    monkeypatch.setattr(SparkSubmitOperator, "execute", record)
    # As rendered: no lake_config_file, and a Jinja flag that rendered empty.
    unset = LakeJobOperator(task_id="reconcile", command="cdc", application_args=["reconcile", "--ranges", "4", ""])
    unset.conf["spark.lake.config.file"] = ""
    unset.execute({})
    shipped = LakeJobOperator(task_id="reconcile", command="cdc", application_args=["reconcile", "--dry-run"])
    shipped.conf["spark.lake.config.file"] = "s3a://acme-lake/conf/cluster.conf"
    shipped.execute({})
    assert submitted == [
        ({"spark.log.level": "WARN"}, ["reconcile", "--ranges", "4"]),
        (
            {"spark.log.level": "WARN", "spark.lake.config.file": "s3a://acme-lake/conf/cluster.conf"},
            ["reconcile", "--dry-run"],
        ),
    ]
    with pytest.raises(ValueError, match="no Spark job for lake 'verify'"):
        LakeJobOperator(task_id="verify", command="verify")


def test_lake_job_operator_sends_each_trys_run_record_under_lake_runs_url(monkeypatch):
    from types import SimpleNamespace

    submitted = []
    monkeypatch.setattr(SparkSubmitOperator, "execute", lambda self, context: submitted.append(list(self.application_args)))
    ti = SimpleNamespace(
        dag_id="lambda_lake_import",
        task_id="run_import",
        run_id="scheduled__2026-12-06T00:30:00+00:00",
        try_number=2,
        map_index=1,
    )
    operator = LakeJobOperator(task_id="run_import", command="import-jdbc", application_args=["--table", "t"])
    assert operator.runs_url == "{{ var.value.get('lake_runs_url', '') }}"
    assert "runs_url" in operator.template_fields
    operator.runs_url = "s3a://acme-lake/runs/"
    operator.execute({"ti": ti})
    unset = LakeJobOperator(task_id="run_import", command="import-jdbc", application_args=["--table", "t"])
    unset.runs_url = ""
    unset.execute({"ti": ti})
    assert submitted == [
        [
            "--table",
            "t",
            "--run-record",
            "s3a://acme-lake/runs/lambda_lake_import/run_import/scheduled__2026-12-06T00_30_00_00_00/try-2-1.json",
        ],
        ["--table", "t"],
    ]


def test_lake_cli_tasks_retry_only_an_unavailable_server(monkeypatch):
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.sdk.exceptions import AirflowException, AirflowFailException

    operator = LakeCliOperator(task_id="verify", bash_command="lake verify")

    def lake_exits_with(code):
        def execute(self, context):
            raise AirflowException(
                f"Bash command failed. The command returned a non-zero exit code {code}."
            )

        return execute

    for not_retryable in (2, 3, 70):
        monkeypatch.setattr(BashOperator, "execute", lake_exits_with(not_retryable))
        with pytest.raises(AirflowFailException, match=f"lake \\(verify\\) exited with {not_retryable}"):
            operator.execute({})
    monkeypatch.setattr(BashOperator, "execute", lake_exits_with(75))
    with pytest.raises(AirflowException, match="non-zero exit code 75") as raised:
        operator.execute({})
    assert not isinstance(raised.value, AirflowFailException)


def test_cdc_reconcile_runs_daily_with_typed_params(dag_bag):
    dag = dag_bag.dags["lambda_lake_cdc_reconcile"]
    assert type(dag.timetable).__name__ == "CronTriggerTimetable"
    assert dag.timetable.summary == "0 4 * * *"
    assert {task.task_id for task in dag.tasks} == {"reconcile"}
    reconcile = dag.get_task("reconcile")
    assert isinstance(reconcile, LakeJobOperator)
    assert reconcile._java_class == "io.lambdalake.ingestion.cdc.CdcJob"
    assert reconcile.retries == 3
    assert set(dag.params.keys()) == {"databases", "ranges", "dry_run"}
    assert dag.params.get_param("databases").value == "[^.]+"
    assert dag.params.get_param("ranges").value == 16
    assert dag.params.get_param("dry_run").value is False

    environment = dag.get_template_env()

    def render(params):
        rendered = [environment.from_string(arg).render(params=params) for arg in reconcile.application_args]
        return [arg for arg in rendered if arg.strip()]  # as LakeJobOperator.execute leaves them

    assert render({"databases": "shop|crm", "ranges": 16, "dry_run": False}) == [
        "reconcile", "--databases", "shop|crm", "--ranges", "16"
    ]
    assert render({"databases": "shop", "ranges": 4, "dry_run": True}) == [
        "reconcile", "--databases", "shop", "--ranges", "4", "--dry-run"
    ]
