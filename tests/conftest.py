import os

# MLflow: no telemetry from test runs, and fail fast against an unreachable tracking server.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")


import pytest

import tempfile
from pathlib import Path

from tests.support.servers import MlflowOnPostgres, PostgresCluster, RedisServer

_MLFLOW_ON_POSTGRES: MlflowOnPostgres | None = None


def pytest_collection_modifyitems(config, items):
    """The files that run real processes (e2e, browser: tens of seconds each) go first. With two
    workers and --dist loadfile they then run beside the many short files instead of after them,
    where one worker would finish minutes before the other. Order within each group is kept."""
    items.sort(key=lambda item: next((rank for rank, start in enumerate(LONGEST_FIRST) if item.nodeid.startswith(start)), len(LONGEST_FIRST)))


LONGEST_FIRST = (
    "tests/e2e/test_resilience.py",
    "tests/e2e/test_replicas.py",
    "tests/e2e/test_scale_out.py",
    "tests/e2e/test_full_loop.py",
    "tests/browser/test_console_keys.py",
    "tests/e2e/",
    "tests/browser/",
)
"""The real-process files, longest first (each of the first three is one to three minutes of
servers): a long file started last is the run's tail, one worker busy while the other has finished."""


def pytest_collection_finish(session):
    """When a test needing `mlflow server` on PostgreSQL is selected, start both now, in the
    background: their start-up (mostly MLflow's migrations) overlaps the tests that run first.
    Not under pytest-xdist workers, where each worker would start its own."""
    global _MLFLOW_ON_POSTGRES
    if hasattr(session.config, "workerinput") or PostgresCluster.missing():
        return
    if any("mlflow_on_postgres" in getattr(item, "fixturenames", ()) for item in session.items):
        _MLFLOW_ON_POSTGRES = MlflowOnPostgres(Path(tempfile.mkdtemp(prefix="churn-mlflow-server-")))
        _MLFLOW_ON_POSTGRES.start_in_background()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """One redis-server for the whole session (tests use their own queue names or flush it)."""
    reason = RedisServer.missing()
    if reason:
        pytest.skip(reason)
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mlflow_on_postgres(tmp_path_factory):
    """An `mlflow server` on a throwaway PostgreSQL cluster, serving its artifacts (--serve-artifacts):
    a MlflowOnPostgres, possibly still starting (its `url` is fixed; `ready()` waits for it)."""
    global _MLFLOW_ON_POSTGRES
    reason = PostgresCluster.missing()
    if reason:
        pytest.skip(reason)
    servers = _MLFLOW_ON_POSTGRES or MlflowOnPostgres(tmp_path_factory.mktemp("mlflow-server"))
    _MLFLOW_ON_POSTGRES = None
    servers.start_in_background()
    try:
        yield servers  # .url at once; .ready() waits for the server
    finally:
        servers.stop()
