import os

# MLflow: no telemetry from test runs, and fail fast against an unreachable tracking server.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")


import pytest  # noqa: E402

from tests.support.servers import RedisServer  # noqa: E402


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """One redis-server for the whole session (tests use their own queue names or flush it)."""
    reason = RedisServer.missing()
    if reason:
        pytest.skip(reason)
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()
