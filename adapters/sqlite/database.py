"""The SQLite file behind every SQLite store: connections, schema, error translation."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from adapters.sqlite.writer import GroupWriter
from churn.errors import StoreUnavailableError

BUSY_TIMEOUT_MS = 5000
CACHE_MIB = 256
WAL_AUTOCHECKPOINT_PAGES = 32_000
BATCH_WAL_AUTOCHECKPOINT_PAGES = 256_000
MMAP_BYTES = 256 * 1024 * 1024
JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024
CHECKPOINT_INTERVAL_SECONDS = 0.5
FOREGROUND_WAIT_SECONDS = 1.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS datasets (
    name TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    document TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS datasets_by_created ON datasets (created_at, name);
CREATE TABLE IF NOT EXISTS dataset_contents (
    name TEXT PRIMARY KEY REFERENCES datasets (name),
    content BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS dataset_files (
    name TEXT PRIMARY KEY REFERENCES datasets (name),
    digest TEXT NOT NULL,
    size INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS dataset_files_by_digest ON dataset_files (digest);

CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    document TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, created_at, job_id);

CREATE TABLE IF NOT EXISTS model_records (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE INDEX IF NOT EXISTS model_records_by_finished ON model_records (finished_at DESC, name, version DESC);

CREATE TABLE IF NOT EXISTS active_model (
    slot INTEGER PRIMARY KEY CHECK (slot = 1),
    name TEXT NOT NULL,
    version INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS customers (
    customer_id TEXT PRIMARY KEY,
    attributes TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS predictions (
    seq INTEGER PRIMARY KEY,
    prediction_id TEXT NOT NULL,
    customer_id TEXT,
    churn_probability REAL NOT NULL,
    band TEXT NOT NULL,
    model_name TEXT NOT NULL,
    model_version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    features TEXT NOT NULL,
    reasons TEXT,
    run_id TEXT,
    threshold REAL
);
CREATE UNIQUE INDEX IF NOT EXISTS predictions_by_probability
    ON predictions (churn_probability DESC, created_at DESC, prediction_id DESC);
CREATE INDEX IF NOT EXISTS predictions_by_customer
    ON predictions (customer_id, created_at DESC, prediction_id DESC);
CREATE INDEX IF NOT EXISTS predictions_by_model_version
    ON predictions (model_name, model_version, churn_probability DESC, created_at DESC, prediction_id DESC);

CREATE TABLE IF NOT EXISTS prediction_counts (
    band TEXT NOT NULL,
    model_name TEXT NOT NULL,
    model_version INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (band, model_name, model_version)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS predictions_counted AFTER INSERT ON predictions WHEN NEW.run_id IS NULL
BEGIN
    INSERT INTO prediction_counts (band, model_name, model_version, n)
    VALUES (NEW.band, NEW.model_name, NEW.model_version, 1)
    ON CONFLICT (band, model_name, model_version) DO UPDATE SET n = n + 1;
END;
CREATE INDEX IF NOT EXISTS predictions_by_run ON predictions (run_id, customer_id) WHERE run_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS outcomes (
    customer_id TEXT NOT NULL,
    observed_day TEXT NOT NULL,
    churned INTEGER NOT NULL,
    observed_at INTEGER NOT NULL,
    PRIMARY KEY (customer_id, observed_day)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS scoring_runs (
    run_id TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    document TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS scoring_runs_by_created ON scoring_runs (created_at DESC, run_id DESC);

CREATE TABLE IF NOT EXISTS latest_predictions (
    customer_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    churn_probability REAL NOT NULL,
    band TEXT NOT NULL,
    model_name TEXT NOT NULL,
    model_version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    prediction_id TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS latest_by_probability
    ON latest_predictions (churn_probability DESC, created_at DESC, prediction_id DESC);
CREATE INDEX IF NOT EXISTS latest_by_model_version
    ON latest_predictions (model_name, model_version, churn_probability DESC, created_at DESC, prediction_id DESC);
CREATE TABLE IF NOT EXISTS latest_counts (
    band TEXT NOT NULL,
    model_name TEXT NOT NULL,
    model_version INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (band, model_name, model_version)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS predictions_latest AFTER INSERT ON predictions WHEN NEW.customer_id IS NOT NULL AND NEW.run_id IS NULL
BEGIN
    INSERT INTO latest_predictions (customer_id, seq, churn_probability, band, model_name, model_version, created_at, prediction_id)
    VALUES (NEW.customer_id, NEW.seq, NEW.churn_probability, NEW.band, NEW.model_name, NEW.model_version, NEW.created_at, NEW.prediction_id)
    ON CONFLICT (customer_id) DO UPDATE SET
        seq = excluded.seq, churn_probability = excluded.churn_probability, band = excluded.band,
        model_name = excluded.model_name, model_version = excluded.model_version,
        created_at = excluded.created_at, prediction_id = excluded.prediction_id
    WHERE (excluded.created_at, excluded.prediction_id) > (latest_predictions.created_at, latest_predictions.prediction_id);
END;
CREATE TRIGGER IF NOT EXISTS latest_counted AFTER INSERT ON latest_predictions
BEGIN
    INSERT INTO latest_counts (band, model_name, model_version, n) VALUES (NEW.band, NEW.model_name, NEW.model_version, 1)
    ON CONFLICT (band, model_name, model_version) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS latest_recounted AFTER UPDATE ON latest_predictions
    WHEN NEW.band != OLD.band OR NEW.model_name != OLD.model_name OR NEW.model_version != OLD.model_version
BEGIN
    UPDATE latest_counts SET n = n - 1 WHERE band = OLD.band AND model_name = OLD.model_name AND model_version = OLD.model_version;
    INSERT INTO latest_counts (band, model_name, model_version, n) VALUES (NEW.band, NEW.model_name, NEW.model_version, 1)
    ON CONFLICT (band, model_name, model_version) DO UPDATE SET n = n + 1;
END;
"""

_ADDED_COLUMNS = {"predictions": (("reasons", "TEXT"), ("run_id", "TEXT"), ("threshold", "REAL"))}
"""Columns added since the first schema: an older file gets them (NULL) before the schema runs."""

RUN_ROWS_TRIGGERS = ("predictions_counted", "predictions_latest")
"""Triggers that leave a scoring run's rows (run_id set) to the repository's set-based statements
(SqlitePredictionRepository.add_many): a file whose triggers predate that gets them again."""

_BACKFILL_LATEST = """
INSERT INTO latest_predictions (customer_id, seq, churn_probability, band, model_name, model_version, created_at, prediction_id)
SELECT customer_id, seq, churn_probability, band, model_name, model_version, created_at, prediction_id FROM (
    SELECT *, row_number() OVER (PARTITION BY customer_id ORDER BY created_at DESC, prediction_id DESC) AS rank
    FROM predictions WHERE customer_id IS NOT NULL
) WHERE rank = 1
"""


@contextmanager
def translated_errors() -> Iterator[None]:
    """Turn any sqlite3.Error (locked, read-only, disk I/O, corrupt) into StoreUnavailableError."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StoreUnavailableError(f"store unavailable: {exc}") from exc


def to_micros(moment: datetime) -> int:
    """Microseconds since the epoch, UTC: exact and sortable. Naive datetimes are taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    """The timezone-aware UTC datetime of `to_micros`."""
    seconds, micro = divmod(micros, 1_000_000)
    return datetime.fromtimestamp(seconds, timezone.utc).replace(microsecond=micro)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class SqliteDatabase:
    """One SQLite file in WAL mode (synchronous=NORMAL: a commit survives a process crash, the last
    ones may be lost on power loss); one connection per thread, waiting up to `busy_timeout_ms` for a
    lock, each with a page cache of up to `cache_mib` (it fills only as pages are used) and the first
    256 MB of the file memory-mapped. Creates the schema at construction (idempotent);
    StoreUnavailableError when the file cannot be opened or written.

    Checkpoints (copying the WAL back into the database: random page writes, plus the only fsyncs
    under synchronous=NORMAL) run every WAL_AUTOCHECKPOINT_PAGES (~128 MB of WAL). Inserts land at
    random places of the indexes, so a long window lets one checkpoint write each hot index page once
    for many commits instead of once per few; the price is a WAL of that size and a pause of about a
    second on the commit that triggers it. After a checkpoint the WAL file is cut to 64 MB."""

    def __init__(
        self,
        path: str | Path,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        cache_mib: int = CACHE_MIB,
        background_checkpoints: bool = False,
    ) -> None:
        self.path = str(path)
        self._background_checkpoints = background_checkpoints
        self._checkpointer: threading.Thread | None = None
        self._stopping = threading.Event()
        self._busy_timeout_ms = int(busy_timeout_ms)
        self._cache_kib = int(cache_mib) * 1024
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._turns = threading.Condition()
        self._foreground_waiting = 0
        self._writer = GroupWriter(self.connection, translated_errors, self.foreground)
        with translated_errors():
            if self.path != ":memory:" and not self.path.startswith("file:"):
                try:
                    Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreUnavailableError(f"store unavailable: cannot create {Path(self.path).parent}: {exc}") from exc
            connection = self.connection()
            connection.execute("PRAGMA journal_mode=WAL")
            with self.transaction() as tx:
                _migrate(tx)
                had_latest = _has_table(tx, "latest_predictions")
                for statement in _statements(SCHEMA):
                    tx.execute(statement)
                if not had_latest:  # a file from before the latest-risk table: fill it from the history
                    tx.execute(_BACKFILL_LATEST)
        if background_checkpoints:
            self._checkpointer = threading.Thread(target=self._checkpoint_loop, name="churn-sqlite-checkpoint", daemon=True)
            self._checkpointer.start()

    def _checkpoint_loop(self) -> None:
        """For a serving process: commits never pay for a checkpoint (a stall of every request when
        scoring runs on the event loop); this thread copies the WAL back twice a second instead,
        in PASSIVE mode, which never blocks readers or the writer."""
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, uri=self.path.startswith("file:"))
        try:
            while not self._stopping.wait(CHECKPOINT_INTERVAL_SECONDS):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    pass  # the next round tries again; writers are unaffected
        finally:
            connection.close()

    def submit(self, statement: str, parameters: Callable[[], Sequence[Any]]) -> Future:
        """Run one write statement soon, without waiting for it: the future completes once it is
        committed, or fails with StoreUnavailableError (only its own: the others still commit).
        A writer thread writes whatever was submitted meanwhile together (see writer.py), beside
        the caller; `parameters` is called there too, so the caller does not pay for encoding.
        For callers on an event loop, which must not block on a commit."""
        return self._writer.submit(statement, parameters)

    @property
    def groups_written(self) -> int:
        return self._writer.groups_written

    def connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use (autocommit; transactions are explicit)."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, uri=self.path.startswith("file:"))
            connection.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA foreign_keys=ON")
            connection.execute(f"PRAGMA cache_size=-{self._cache_kib}")
            connection.execute("PRAGMA temp_store=MEMORY")
            connection.execute(f"PRAGMA wal_autocheckpoint={0 if self._background_checkpoints else WAL_AUTOCHECKPOINT_PAGES}")
            connection.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")
            connection.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    @contextmanager
    def transaction(self, background: bool = False) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE): committed on success, rolled back on any error.

        A `background` one (a scoring run's batches, back to back) first lets this process's other
        writers that are waiting for the lock go (up to FOREGROUND_WAIT_SECONDS): SQLite's busy
        handler polls, and a writer that begins again at once after its commit would keep them
        waiting, past busy_timeout, for as long as it has batches."""
        with translated_errors():
            connection = self.connection()
            if background:
                with self._turns:
                    self._turns.wait_for(lambda: not self._foreground_waiting, FOREGROUND_WAIT_SECONDS)
                connection.execute("BEGIN IMMEDIATE")
            else:
                with self.foreground():
                    connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def checkpoint_on_commit(self) -> None:
        """This thread's commits checkpoint the WAL themselves once it holds WAL_AUTOCHECKPOINT_PAGES,
        background checkpoints or not: for a thread that writes big transactions back to back (a
        scoring run's), which no request waits on. Checkpointed by its writer between its
        transactions, the WAL is whole-copied when the next one begins, so it starts again from its
        head (a file rewritten in place) instead of growing by every transaction's pages, and the
        checkpoint thread, racing the writer, never catches up."""
        with translated_errors():
            self.connection().execute(f"PRAGMA wal_autocheckpoint={BATCH_WAL_AUTOCHECKPOINT_PAGES}")

    @contextmanager
    def foreground(self) -> Iterator[None]:
        """Around a write that is waiting for SQLite's lock: background transactions do not begin meanwhile."""
        with self._turns:
            self._foreground_waiting += 1
        try:
            yield
        finally:
            with self._turns:
                self._foreground_waiting -= 1
                self._turns.notify_all()

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees the same state."""
        with translated_errors():
            connection = self.connection()
            connection.execute("BEGIN")
            try:
                yield connection
            finally:
                if connection.in_transaction:
                    connection.execute("COMMIT")

    def close(self) -> None:
        """Commit what was submitted, then close every thread's connection; the next use reopens one."""
        self._stopping.set()
        self._writer.close()
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
        self._local = threading.local()


def _statements(script: str) -> list[str]:
    statements: list[str] = []
    current = ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return statements


def _has_table(connection: sqlite3.Connection, name: str) -> bool:
    return connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def _migrate(connection: sqlite3.Connection) -> None:
    for name in RUN_ROWS_TRIGGERS:
        row = connection.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (name,)).fetchone()
        if row is not None and "run_id IS NULL" not in row[0]:
            connection.execute(f"DROP TRIGGER {name}")  # the schema creates it again, with the run rows left out
    for table, columns in _ADDED_COLUMNS.items():
        if not _has_table(connection, table):
            continue
        present = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        for column, kind in columns:
            if column not in present:
                connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
