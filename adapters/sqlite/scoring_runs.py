"""`ScoringRunStore` on SQLite: one row per run, its fields as JSON."""

from __future__ import annotations

import json

from adapters.sqlite.database import SqliteDatabase, to_micros
from churn.errors import ScoringRunNotFoundError
from churn.ports import ScoringRunStore
from churn.scoring_runs import ScoringRun


class SqliteScoringRunStore(ScoringRunStore):
    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    def save(self, run: ScoringRun) -> None:
        with self._db.transaction() as tx:
            tx.execute(
                "INSERT INTO scoring_runs (run_id, created_at, document) VALUES (?, ?, ?) "
                "ON CONFLICT (run_id) DO UPDATE SET document = excluded.document",
                (run.run_id, to_micros(run.created_at), json.dumps(run.to_dict())),
            )

    def get(self, run_id: str) -> ScoringRun:
        with self._db.snapshot() as db:
            row = db.execute("SELECT document FROM scoring_runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise ScoringRunNotFoundError(f"scoring run {run_id!r} not found")
        return ScoringRun.from_dict(json.loads(row[0]))

    def list(self, limit: int) -> list[ScoringRun]:
        with self._db.snapshot() as db:
            rows = db.execute("SELECT document FROM scoring_runs ORDER BY created_at DESC, run_id DESC LIMIT ?", (limit,)).fetchall()
        return [ScoringRun.from_dict(json.loads(row[0])) for row in rows]

    def claim(self, run: ScoringRun, expected: ScoringRun) -> bool:
        """One UPDATE guarded by the stored status, heartbeat and revision: SQLite runs one writer at a time."""
        previous = expected.to_dict()
        with self._db.transaction() as tx:
            changed = tx.execute(
                "UPDATE scoring_runs SET document = ? WHERE run_id = ? AND json_extract(document, '$.status') = ? "
                "AND json_extract(document, '$.heartbeat_at') IS ? AND coalesce(json_extract(document, '$.revision'), 0) = ?",
                (json.dumps(run.to_dict()), expected.run_id, previous["status"], previous["heartbeat_at"], previous["revision"]),
            ).rowcount
        return changed == 1
