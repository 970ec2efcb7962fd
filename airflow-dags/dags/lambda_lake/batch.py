"""The batch job under spark-submit, as the DAGs run it."""

from __future__ import annotations

from lambda_lake.spark_job import LakeJobOperator


class BatchJobOperator(LakeJobOperator):
    """
    ``spark-submit`` of ``io.lambdalake.batch.BatchJob`` from the jobs jar (``LakeJobOperator``);
    ``application_args`` are the job's options (``--from``, ``--to``, ``--logic-version``).
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(command="batch", **kwargs)
