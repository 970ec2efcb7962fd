"""Shared pieces of the lambda-lake DAGs (not a DAG file: .airflowignore keeps it from parsing)."""
