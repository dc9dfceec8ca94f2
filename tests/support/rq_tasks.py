"""Tasks for the JobRunner contract on RQ: they record the job id in Redis, in the order run."""

from __future__ import annotations

from rq import get_current_job

RAN_KEY = "churn-test:ran"


def record(job_id: str) -> None:
    get_current_job().connection.rpush(RAN_KEY, job_id)
    if job_id.startswith("fail"):
        raise RuntimeError(f"{job_id} fails on purpose")
