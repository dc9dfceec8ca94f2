"""`ScoringRunStore` on MongoDB: `SCORING_RUNS`, one document per run keyed by run_id."""

from __future__ import annotations

from adapters.mongo.database import SCORING_RUNS, MongoDatabase, translated_errors
from churn.errors import ScoringRunNotFoundError
from churn.ports import ScoringRunStore
from churn.scoring_runs import ScoringRun


class MongoScoringRunStore(ScoringRunStore):
    def __init__(self, database: MongoDatabase) -> None:
        self._runs = database.collection(SCORING_RUNS)

    def save(self, run: ScoringRun) -> None:
        document = run.to_dict()
        with translated_errors():
            self._runs.replace_one({"_id": run.run_id}, {"_id": run.run_id, **document}, upsert=True)

    def get(self, run_id: str) -> ScoringRun:
        with translated_errors():
            document = self._runs.find_one({"_id": run_id})
        if document is None:
            raise ScoringRunNotFoundError(f"scoring run {run_id!r} not found")
        return _from_document(document)

    def claim(self, run: ScoringRun, expected: ScoringRun) -> bool:
        """One update_one filtered on the stored status and heartbeat: atomic on the document."""
        previous = expected.to_dict()
        with translated_errors():
            result = self._runs.update_one(
                {"_id": expected.run_id, "status": previous["status"], "heartbeat_at": previous["heartbeat_at"]}, {"$set": run.to_dict()}
            )
        return result.matched_count == 1

    def list(self, limit: int) -> list[ScoringRun]:
        with translated_errors():
            return [_from_document(d) for d in self._runs.find().sort([("created_at", -1), ("_id", -1)]).limit(limit)]


def _from_document(document: dict) -> ScoringRun:
    return ScoringRun.from_dict({k: v for k, v in document.items() if k != "_id"})
