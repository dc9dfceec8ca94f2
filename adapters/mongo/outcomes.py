"""`OutcomeRepository` on MongoDB: `RESULTADOS`, `_id` = "customer_id|day"."""

from __future__ import annotations

from typing import Sequence

from adapters.mongo import moments
from adapters.mongo.database import OUTCOMES, MongoDatabase, translated_errors
from churn.outcomes import Outcome, OutcomeReport
from churn.ports import OutcomeRepository

_LOOKUP_BATCH = 500


class MongoOutcomeRepository(OutcomeRepository):
    def __init__(self, database: MongoDatabase) -> None:
        self._outcomes = database.collection(OUTCOMES)

    def add_many(self, outcomes: Sequence[Outcome]) -> OutcomeReport:
        """Upserts by key; without transactions a failure part-way leaves the earlier keys written,
        and importing again completes it (idempotent)."""
        latest = {_key(o): o for o in outcomes}
        inserted = updated = unchanged = 0
        with translated_errors():
            keys = list(latest)
            stored = {}
            for start in range(0, len(keys), _LOOKUP_BATCH):
                for document in self._outcomes.find({"_id": {"$in": keys[start : start + _LOOKUP_BATCH]}}):
                    stored[document["_id"]] = document
            for key, outcome in latest.items():
                document = _to_document(outcome)
                old = stored.get(key)
                if old is None:
                    inserted += 1
                elif _from_document(old) == outcome:
                    unchanged += 1
                    continue
                else:
                    updated += 1
                self._outcomes.replace_one({"_id": key}, document, upsert=True)
        return OutcomeReport(inserted, updated, unchanged + len(outcomes) - len(latest))

    def list_all(self) -> list[Outcome]:
        with translated_errors():
            return [_from_document(d) for d in self._outcomes.find()]

    def count(self) -> int:
        with translated_errors():
            return self._outcomes.count_documents({})


def _key(outcome: Outcome) -> str:
    return f"{outcome.customer_id}|{outcome.day}"


def _to_document(outcome: Outcome) -> dict:
    return {"_id": _key(outcome), "customer_id": outcome.customer_id, "churned": outcome.churned, **moments.stored("observed_at", outcome.observed_at)}


def _from_document(document: dict) -> Outcome:
    observed_at = moments.moment(document, "observed_at")
    assert observed_at is not None
    return Outcome(document["customer_id"], document["churned"], observed_at)
