"""`ScoringRunStore` on MongoDB: `SCORING_RUNS`, one document per run keyed by run_id; moments as BSON
dates (adapters.mongo.moments), runs stored before with text moments read and are claimed the same."""

from __future__ import annotations

from adapters.mongo import moments
from adapters.mongo.database import SCORING_RUNS, MongoDatabase, translated_errors
from churn.errors import ScoringRunNotFoundError
from churn.ports import ScoringRunStore
from churn.scoring_runs import ScoringRun

_MOMENTS = ("created_at", "started_at", "finished_at", "heartbeat_at")


class MongoScoringRunStore(ScoringRunStore):
    def __init__(self, database: MongoDatabase) -> None:
        self._runs = database.collection(SCORING_RUNS)

    def save(self, run: ScoringRun) -> None:
        with translated_errors():
            self._runs.replace_one({"_id": run.run_id}, {"_id": run.run_id, **_to_document(run)}, upsert=True)

    def get(self, run_id: str) -> ScoringRun:
        with translated_errors():
            document = self._runs.find_one({"_id": run_id})
        if document is None:
            raise ScoringRunNotFoundError(f"scoring run {run_id!r} not found")
        return _from_document(document)

    def claim(self, run: ScoringRun, expected: ScoringRun) -> bool:
        """One update_one filtered on the stored status, the exact heartbeat (its date and
        microseconds, or its text in a run stored before) and the revision (none in a run stored
        before revisions, which reads as 0): atomic on the document. A chunk's own moments stay text
        inside the run's `chunks` (nothing filters or sorts on them)."""
        revision = expected.revision or {"$in": [0, None]}
        with translated_errors():
            result = self._runs.update_one(
                {"_id": expected.run_id, "status": expected.status.value, "revision": revision, **moments.equal("heartbeat_at", expected.heartbeat_at)},
                {"$set": _to_document(run)},
            )
        return result.matched_count == 1

    def list(self, limit: int) -> list[ScoringRun]:
        with translated_errors():
            cursor = self._runs.find().sort([*moments.order("created_at", -1), ("_id", -1)]).limit(limit)
            return [_from_document(d) for d in cursor]


def _to_document(run: ScoringRun) -> dict:
    return moments.dated(run.to_dict(), _MOMENTS)


def _from_document(document: dict) -> ScoringRun:
    return ScoringRun.from_dict(moments.undated({k: v for k, v in document.items() if k != "_id"}, _MOMENTS))
