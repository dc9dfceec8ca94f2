"""Real servers for tests, on free loopback ports in throwaway folders: redis-server, a PostgreSQL
cluster (initdb in a temporary folder, its unix socket there too) and `mlflow server`. Each is a
context manager that stops what it started; `missing()` says why one cannot be had here, so a test
can skip with that reason."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _postgres_tool(name: str) -> str | None:
    for folder in POSTGRES_BIN_DIRS:
        if (folder / name).exists():
            return str(folder / name)
    return shutil.which(name)


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited: {log.read_text(errors='replace')[-3000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout}s: {log.read_text(errors='replace')[-3000:]}")


class RedisServer:
    """redis-server with the append-only file on and fsync'd on every write (`appendfsync always`),
    so a restart, even after SIGKILL, comes back with every acknowledged write."""

    @staticmethod
    def missing() -> str | None:
        return None if shutil.which("redis-server") else "redis-server is not installed (.ci/run installs Debian's redis-server)"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = folder / "redis.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "RedisServer":
        self.folder.mkdir(parents=True, exist_ok=True)
        command = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
            "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "yes",
        ]
        self.process = subprocess.Popen(command, stdout=self.log.open("ab"), stderr=subprocess.STDOUT)
        _wait_for_port(self.port, self.process, self.log, 20, "redis-server")
        return self

    def stop(self, kill: bool = False) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            self.process.wait(20)

    def restart(self, kill: bool = False) -> None:
        """Stop (SIGKILL with `kill`) and start again on the same port and folder."""
        self.stop(kill)
        self.start()

    def __enter__(self) -> "RedisServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class PostgresCluster:
    """A throwaway cluster: initdb in a temporary folder (owned by the `postgres` user when run as
    root, since PostgreSQL refuses to run as root), trust authentication on loopback only."""

    @staticmethod
    def missing() -> str | None:
        if not (_postgres_tool("initdb") and _postgres_tool("pg_ctl")):
            return "PostgreSQL server binaries (initdb, pg_ctl) are not installed (.ci/run installs Debian's postgresql)"
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                return "running as root and there is no `postgres` user to run the cluster as"
        return None

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="churn-pg-"))
        self.port = free_port()
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self._as_user: list[str] = []

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> subprocess.CompletedProcess:
        return subprocess.run([*self._as_user, *command], capture_output=True, text=True, timeout=120, check=True)

    def start(self) -> "PostgresCluster":
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
            self._as_user = ["runuser", "-u", "postgres", "--"]
        self._run(_postgres_tool("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50"
        self._run(_postgres_tool("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")
        return self

    def create_database(self, name: str) -> str:
        psql = _postgres_tool("psql") or "psql"
        self._run(psql, "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-c", f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        if self.data.exists():
            subprocess.run(
                [*self._as_user, _postgres_tool("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                capture_output=True, timeout=60,
            )
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> "PostgresCluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class MlflowServer:
    """`mlflow server` on a SQL backend store that serves the artifacts itself
    (`--serve-artifacts --artifacts-destination`): clients need only its URL, no shared disk."""

    def __init__(self, backend_store_uri: str, folder: Path, port: int | None = None) -> None:
        self.backend_store_uri = backend_store_uri
        self.folder = folder
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / "mlflow-server.log"
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        mlflow = str(Path(sys.executable).with_name("mlflow"))
        return [
            mlflow, "server", "--backend-store-uri", self.backend_store_uri,
            "--serve-artifacts", "--artifacts-destination", str(self.folder / "artifacts"),
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
        ]

    def start(self, timeout: float = 180.0) -> "MlflowServer":
        self.folder.mkdir(parents=True, exist_ok=True)
        # no server-side job runner (huey consumers): the service never asks the server to run jobs
        env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
        self.process = subprocess.Popen(self.command(), stdout=self.log.open("ab"), stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mlflow server exited: {self.log.read_text(errors='replace')[-3000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"mlflow server did not start within {timeout}s: {self.log.read_text(errors='replace')[-3000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # its gunicorn/uvicorn workers too
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)

    def __enter__(self) -> "MlflowServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class MlflowOnPostgres:
    """A PostgreSQL cluster and an `mlflow server` on it with served artifacts. `mlflow server` spends
    most of its start-up migrating a fresh database (tens of seconds on a busy machine), so the test
    session can start it in the background while other tests run (`start_in_background`); its URL is
    known at once, so clients that tolerate a registry still starting can be started meanwhile."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.postgres: PostgresCluster | None = None
        self.mlflow: MlflowServer | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def start(self) -> "MlflowOnPostgres":
        self.postgres = PostgresCluster().start()
        self.mlflow = MlflowServer(self.postgres.create_database("mlflow"), self.folder, port=self.port).start()
        return self

    def start_in_background(self) -> None:
        """Idempotent: a second call leaves the first start going."""
        if self._thread is not None:
            return

        def run() -> None:
            try:
                self.start()
            except BaseException as exc:  # reported by `ready`
                self._error = exc

        self._thread = threading.Thread(target=run, name="mlflow-on-postgres", daemon=True)
        self._thread.start()

    def ready(self) -> MlflowServer:
        if self._thread is None:
            self.start_in_background()
        self._thread.join()
        if self._error is not None:
            raise RuntimeError(f"mlflow server on PostgreSQL did not start: {self._error}") from self._error
        assert self.mlflow is not None
        return self.mlflow

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.join()
        if self.mlflow is not None:
            self.mlflow.stop()
        if self.postgres is not None:
            self.postgres.stop()
