"""`OutcomeRepository` on SQLite: one row per (customer_id, UTC day)."""

from __future__ import annotations

from typing import Sequence

from adapters.sqlite.database import SqliteDatabase, from_micros, to_micros
from churn.outcomes import Outcome, OutcomeReport
from churn.ports import OutcomeRepository

_LOOKUP_BATCH = 400


class SqliteOutcomeRepository(OutcomeRepository):
    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    def add_many(self, outcomes: Sequence[Outcome]) -> OutcomeReport:
        """One transaction; a key already stored with the same value is unchanged."""
        latest = {(o.customer_id, o.day): o for o in outcomes}
        inserted = updated = unchanged = 0
        with self._db.transaction() as tx:
            keys = list(latest)
            stored: dict[tuple[str, str], tuple[int, int]] = {}
            for start in range(0, len(keys), _LOOKUP_BATCH):
                chunk = keys[start : start + _LOOKUP_BATCH]
                condition = " OR ".join("(customer_id = ? AND observed_day = ?)" for _ in chunk)
                args = [value for key in chunk for value in key]
                for customer_id, day, churned, observed_at in tx.execute(
                    f"SELECT customer_id, observed_day, churned, observed_at FROM outcomes WHERE {condition}", args
                ):
                    stored[(customer_id, day)] = (churned, observed_at)
            rows = []
            for key, outcome in latest.items():
                value = (int(outcome.churned), to_micros(outcome.observed_at))
                if key not in stored:
                    inserted += 1
                elif stored[key] == value:
                    unchanged += 1
                    continue
                else:
                    updated += 1
                rows.append((*key, *value))
            tx.executemany(
                "INSERT INTO outcomes (customer_id, observed_day, churned, observed_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (customer_id, observed_day) DO UPDATE SET churned = excluded.churned, observed_at = excluded.observed_at",
                rows,
            )
        return OutcomeReport(inserted, updated, unchanged + len(outcomes) - len(latest))

    def list_all(self) -> list[Outcome]:
        with self._db.snapshot() as db:
            rows = db.execute("SELECT customer_id, churned, observed_at FROM outcomes").fetchall()
        return [Outcome(customer_id, bool(churned), from_micros(observed_at)) for customer_id, churned, observed_at in rows]

    def count(self) -> int:
        with self._db.snapshot() as db:
            return db.execute("SELECT count(*) FROM outcomes").fetchone()[0]
