"""Runs the DAG tests with a throwaway Airflow home: no database, no server, no examples."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

DAGS_FOLDER = Path(__file__).resolve().parent.parent / "dags"

# Set before Airflow is imported anywhere: its configuration is read once, at import.
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="lambda-lake-dag-tests-")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS_FOLDER)
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
sys.path.insert(0, str(DAGS_FOLDER))
