"""`PredictionRepository` on MongoDB: `PREVISOES`, `_id` is the prediction_id.

Band listings page by keyset (`$or` on churn_probability, created_at, _id) over indexes in that order,
one per model filter shape, so a cursor at any depth costs one index seek. created_at is a BSON date
with its microseconds in created_at_us (adapters.mongo.moments); documents stored before hold it as
text, which sorts before every date, and a cursor continues in whichever of the two its prediction is. Each document carries its
band, and band counts are `count_documents` on the (band, model_name, model_version) index: counted
from the index, never drifting from the data as a separately updated counter could without transactions.
"""

from __future__ import annotations

from concurrent.futures import Future
from datetime import date, datetime
from typing import Any, Sequence

from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from adapters.futures import settled
from adapters.mongo import moments
from adapters.mongo.database import LATEST, PREDICTIONS, MongoDatabase, translated_errors
from churn.bands import Band, ProbabilityRange
from churn.paging import Page, PageRequest
from churn.decision import DEFAULT_THRESHOLD
from churn.prediction_batches import PredictionBatch
from churn.predictions import Prediction, PredictionCursor
from churn.versions import ModelFilter, ModelRef
from churn.drift import ScoredInput
from churn.outcomes import Score
from churn.ports import PredictionRepository
from churn.reasons import Reasons
from churn.timestamps import utc_text

_DUPLICATE_KEY = 11000
_BAND_ORDER = [("churn_probability", -1), *moments.order("created_at", -1), ("_id", -1)]
_HISTORY_ORDER = [*moments.order("created_at", -1), ("_id", -1)]
_LATEST_ORDER = [("churn_probability", -1), *moments.order("created_at", -1), ("prediction_id", -1)]


class MongoPredictionRepository(PredictionRepository):
    def __init__(self, database: MongoDatabase) -> None:
        self._predictions = database.collection(PREDICTIONS)
        self._latest = database.collection(LATEST)

    def add(self, prediction: Prediction) -> None:
        """Stored once: a prediction_id already present is ignored. Then the customer's latest risk,
        one conditional upsert per customer (no multi-document transaction: if the server fails between the two,
        the latest risk stays at the customer's previous prediction until the next one)."""
        document = _to_document(prediction)
        with translated_errors():
            try:
                self._predictions.insert_one(document)
            except DuplicateKeyError:
                pass
            self._keep_latest([document])

    def _keep_latest(self, documents: Sequence[dict[str, Any]]) -> None:
        """Replace each customer's latest document unless a newer one is there: the filter only matches
        an older one, so the upsert of an id already present with a newer order key is a duplicate-key
        error, ignored."""
        for document in documents:
            if document["customer_id"] is None:
                continue
            try:
                self._latest.update_one(
                    {"_id": document["customer_id"], "order": {"$lt": _order(document)}}, {"$set": _latest_document(document)}, upsert=True
                )
            except DuplicateKeyError:
                pass  # a newer prediction of this customer is the latest already

    def submit_many(self, predictions: Sequence[Prediction]) -> Future[None]:
        """Stored at once (the driver's round trips are the cost here, not the caller's thread)."""
        return settled(self.add_many, predictions)

    def add_batch(self, batch: PredictionBatch) -> None:
        """add_many of its predictions: the documents are built one by one anyway."""
        self.add_many(batch.predictions())

    def submit_batch(self, batch: PredictionBatch, after: Future[None] | None = None) -> Future[None]:
        """Stored at once, like submit_many."""
        return settled(self.add_batch, batch, after=after)

    def add_many(self, predictions: Sequence[Prediction]) -> None:
        """All or nothing as far as a standalone server allows (no multi-document transactions): a
        failed batch is deleted again before StoreUnavailableError, so a reader may briefly see part
        of it, and a process killed in between leaves that part stored. Ids already present are ignored."""
        documents = {p.prediction_id: _to_document(p) for p in reversed(predictions)}
        if not documents:
            return
        with translated_errors():
            present = {d["_id"] for d in self._predictions.find({"_id": {"$in": list(documents)}}, {"_id": 1})}
            fresh = [d for i, d in documents.items() if i not in present]
            if not fresh:
                return
            try:
                self._predictions.insert_many(fresh, ordered=False)
            except BulkWriteError as exc:
                if any(e.get("code") != _DUPLICATE_KEY for e in exc.details.get("writeErrors", [])) or exc.details.get("writeConcernErrors"):
                    self._discard([d["_id"] for d in fresh])
                    raise
            except PyMongoError:
                self._discard([d["_id"] for d in fresh])
                raise
            self._keep_latest(fresh)

    def for_customer(self, customer_id: str, page: PageRequest) -> Page[Prediction]:
        """Newest first (created_at desc, prediction_id desc), offset paging; `next` stays None."""
        with translated_errors():
            total = self._predictions.count_documents({"customer_id": customer_id})
            cursor = self._predictions.find({"customer_id": customer_id}).sort(_HISTORY_ORDER).skip(page.offset).limit(page.limit)
            items = [_from_document(d) for d in cursor]
        return Page(items, total, page.limit, page.offset)

    def in_range(self, probabilities: ProbabilityRange, model: ModelFilter | None, page: PageRequest) -> Page[Prediction]:
        """Band order; `after` resumes by keyset in constant time. `next` is the last item's cursor when more remain."""
        probability: dict[str, float] = {"$gte": probabilities.minimum}
        if not probabilities.contains(probabilities.maximum):
            probability["$lt"] = probabilities.maximum
        query: dict[str, Any] = {"churn_probability": probability, **_model_condition(model)}
        with translated_errors():
            total = self._total(probabilities, model, query)
            if page.after is not None:
                bounded = {**query, "churn_probability": {**probability, "$lte": page.after.churn_probability}}
                cursor = self._predictions.find({**bounded, **self._after(page.after)}).sort(_BAND_ORDER).limit(page.limit + 1)
            else:
                cursor = self._predictions.find(query).sort(_BAND_ORDER).skip(page.offset).limit(page.limit + 1)
            documents = list(cursor)
        items = [_from_document(d) for d in documents[: page.limit]]
        more = len(documents) > page.limit
        return Page(items, total, page.limit, page.offset, PredictionCursor.after(items[-1]).encode() if more else None)

    def count_by_band(self, model: ModelFilter | None) -> dict[Band, int]:
        """Every band present, zero when empty."""
        condition = _model_condition(model)
        with translated_errors():
            return {band: self._predictions.count_documents({"band": band.value, **condition}) for band in Band}

    def count_by_day(self, since: datetime) -> dict[date, int]:
        counts: dict[date, int] = {}
        with translated_errors():
            for document in self._predictions.find(moments.since("created_at", since), {**moments.projected("created_at"), "_id": 0}):
                day = _created_at(document).date()
                counts[day] = counts.get(day, 0) + 1
        return counts

    def latest_in_range(self, probabilities: ProbabilityRange, model: ModelFilter | None, page: PageRequest) -> Page[Prediction]:
        """From `RISCO`, in band order on its indexes; keyset paging like `in_range`."""
        probability: dict[str, float] = {"$gte": probabilities.minimum}
        if not probabilities.contains(probabilities.maximum):
            probability["$lt"] = probabilities.maximum
        query: dict[str, Any] = {"churn_probability": probability, **_model_condition(model)}
        with translated_errors():
            bands = Band.covering(probabilities)
            if bands is None:
                total = self._latest.count_documents(query)
            else:
                total = self._latest.count_documents({"band": {"$in": [b.value for b in bands]}, **_model_condition(model)})
            if page.after is not None:
                bounded = {**query, "churn_probability": {**probability, "$lte": page.after.churn_probability}}
                cursor = self._latest.find({**bounded, **self._after(page.after, "prediction_id")}).sort(_LATEST_ORDER).limit(page.limit + 1)
            else:
                cursor = self._latest.find(query).sort(_LATEST_ORDER).skip(page.offset).limit(page.limit + 1)
            documents = list(cursor)
        items = [_from_document({**d, "_id": d["prediction_id"]}) for d in documents[: page.limit]]
        more = len(documents) > page.limit
        return Page(items, total, page.limit, page.offset, PredictionCursor.after(items[-1]).encode() if more else None)

    def count_latest_by_band(self, model: ModelFilter | None) -> dict[Band, int]:
        condition = _model_condition(model)
        with translated_errors():
            return {band: self._latest.count_documents({"band": band.value, **condition}) for band in Band}

    def last_customer_of_run(self, run_id: str) -> str | None:
        with translated_errors():
            documents = list(self._predictions.find({"run_id": run_id}, {"customer_id": 1}).sort([("run_id", 1), ("customer_id", -1)]).limit(1))
        return documents[0]["customer_id"] if documents else None

    def count_of_run(self, run_id: str) -> int:
        with translated_errors():
            return self._predictions.count_documents({"run_id": run_id})

    def run_rows_between(self, run_id: str, after: str | None, upto: str | None) -> tuple[int, str | None]:
        """A range of the (run_id, customer_id) index, counted, and its last key."""
        within: dict = {"$ne": None} if after is None else {"$gt": after}
        if upto is not None:
            within["$lte"] = upto
        query = {"run_id": run_id, "customer_id": within}
        with translated_errors():
            count = self._predictions.count_documents(query)
            last = list(self._predictions.find(query, {"customer_id": 1}).sort([("run_id", 1), ("customer_id", -1)]).limit(1))
        return count, last[0]["customer_id"] if last else None

    def scores_of(self, model: ModelRef) -> list[Score]:
        query = {"model_name": model.name, "model_version": model.version, "customer_id": {"$ne": None}}
        with translated_errors():
            cursor = self._predictions.find(query, {"customer_id": 1, "churn_probability": 1, **moments.projected("created_at")})
            return [Score(d["customer_id"], d["churn_probability"], _created_at(d)) for d in cursor]

    def inputs_of(self, model: ModelRef, since: datetime, limit: int) -> list[ScoredInput]:
        """The version's range of `by_model_version`, filtered on created_at and cut to the newest
        `limit` (a top-k sort on the server): no index of its own, since every index costs each insert."""
        query = {"model_name": model.name, "model_version": model.version, **moments.since("created_at", since)}
        with translated_errors():
            cursor = self._predictions.find(query, {"features": 1, "churn_probability": 1}).sort(_HISTORY_ORDER).limit(limit)
            return [ScoredInput(dict(d["features"]), d["churn_probability"]) for d in cursor]

    def _total(self, probabilities: ProbabilityRange, model: ModelFilter | None, query: dict[str, Any]) -> int:
        bands = Band.covering(probabilities)
        if bands is None:
            return self._predictions.count_documents(query)
        return self._predictions.count_documents({"band": {"$in": [b.value for b in bands]}, **_model_condition(model)})

    def _after(self, cursor: PredictionCursor, id_field: str = "_id") -> dict[str, Any]:
        """Strictly after the cursor in band order; the caller also bounds churn_probability <= the cursor's,
        so the index scan starts at the cursor. The cursor's prediction is looked up by _id (one index
        read) to learn whether its created_at is stored as a date or, stored before, as text: text sorts
        before every date, so after a date come the earlier dates and then all the text."""
        p, pid = cursor.churn_probability, cursor.prediction_id
        stored = self._predictions.find_one({"_id": pid}, {"created_at": 1})
        text = stored["created_at"] if stored is not None and isinstance(stored["created_at"], str) else None
        if text is not None:
            return {
                "$or": [
                    {"churn_probability": {"$lt": p}},
                    {"churn_probability": p, "created_at": {"$lt": text}},  # a string bound matches only text
                    {"churn_probability": p, "created_at": text, id_field: {"$lt": pid}},
                ]
            }
        created, micros = moments.split(cursor.created_at)
        return {
            "$or": [
                {"churn_probability": {"$lt": p}},
                {"churn_probability": p, "created_at": {"$lt": created}},  # a date bound matches only dates
                {"churn_probability": p, "created_at": created, "created_at_us": {"$lt": micros}},
                {"churn_probability": p, "created_at": created, "created_at_us": micros, id_field: {"$lt": pid}},
                {"churn_probability": p, "created_at": {"$type": "string"}},
            ]
        }

    def _discard(self, ids: list[str]) -> None:
        try:
            self._predictions.delete_many({"_id": {"$in": ids}})
        except PyMongoError:
            pass


def _model_condition(model: ModelFilter | None) -> dict[str, Any]:
    if model is None:
        return {}
    if model.version is None:
        return {"model_name": model.name}
    return {"model_name": model.name, "model_version": model.version}


def _to_document(prediction: Prediction) -> dict[str, Any]:
    return {
        "_id": prediction.prediction_id,
        "customer_id": prediction.customer_id,
        "features": dict(prediction.features),
        "churn_probability": float(prediction.churn_probability),
        "band": prediction.band.value,
        "model_name": prediction.model.name,
        "model_version": prediction.model.version,
        **moments.stored("created_at", prediction.created_at),
        "reasons": prediction.reasons.to_dict() if prediction.reasons else None,
        **({"run_id": prediction.run_id} if prediction.run_id is not None else {}),
        "threshold": prediction.threshold,
    }


def _order(document: dict[str, Any]) -> str:
    """created_at (utc_text, exact) then prediction_id as one sortable text: the latest-risk order
    (Prediction.is_newer_than). Kept as text: a compare-and-set key, not a moment."""
    return f"{utc_text(_created_at(document))}|{document['_id']}"


def _created_at(document: dict[str, Any]) -> datetime:
    created_at = moments.moment(document, "created_at")
    assert created_at is not None
    return created_at


def _latest_document(document: dict[str, Any]) -> dict[str, Any]:
    latest = {k: v for k, v in document.items() if k != "_id"}
    latest["prediction_id"] = document["_id"]
    latest["order"] = _order(document)
    return latest


def _from_document(document: dict[str, Any]) -> Prediction:
    return Prediction(
        document["_id"],
        document["customer_id"],
        dict(document["features"]),
        document["churn_probability"],
        ModelRef(document["model_name"], document["model_version"]),
        _created_at(document),
        Reasons.from_dict(document.get("reasons")),
        document.get("run_id"),
        document.get("threshold", DEFAULT_THRESHOLD),  # documents stored before thresholds were kept: 0.5
    )
