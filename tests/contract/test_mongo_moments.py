"""MongoDB keeps moments as BSON dates (with their microseconds beside them), and documents stored
before as UTC text still read, list in time order among the new ones and take part in every time
filter: on mongomock, and on a real server when CHURN_MONGODB_URI is set."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import mongomock
import pytest

from adapters.documents import dataset_document, job_document, record_document
from adapters.mongo.database import DATASETS, JOBS, LATEST, MODELS, OUTCOMES, PREDICTIONS, SCORING_RUNS, MongoDatabase
from adapters.mongo.datasets import MongoDatasetStore
from adapters.mongo.jobs import MongoJobStore
from adapters.mongo.model_records import MongoModelRecordRepository
from adapters.mongo.outcomes import MongoOutcomeRepository
from adapters.mongo.predictions import MongoPredictionRepository
from adapters.mongo.scoring_runs import MongoScoringRunStore
from churn.bands import ProbabilityRange
from churn.outcomes import Outcome
from churn.paging import PageRequest
from churn.predictions import Prediction, PredictionCursor
from churn.scoring_runs import RunStatus, ScoringRun
from churn.timestamps import utc_text
from churn.training_jobs import INTERRUPTED, JobStatus
from churn.versions import ModelRef
from tests.contract.conftest import MONGODB_URI
from tests.contract.test_dataset_store import CSV, dataset
from tests.contract.test_job_store import job
from tests.contract.test_model_records import record
from tests.contract.test_prediction_repository import GB1, band_order, prediction

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)
ALL = ProbabilityRange(0.0, 1.0)


@pytest.fixture(
    params=["mongomock", pytest.param("mongodb", marks=pytest.mark.skipif(not MONGODB_URI, reason="CHURN_MONGODB_URI is not set"))]
)
def database(request):
    if request.param == "mongomock":
        yield MongoDatabase(mongomock.MongoClient(), "churn")
    else:
        database = MongoDatabase(MONGODB_URI, f"churn_test_{uuid.uuid4().hex[:12]}")
        yield database
        database.drop()
        database.close()


def raw(database: MongoDatabase, collection: str, key: str) -> dict:
    document = database.collection(collection).find_one({"_id": key})
    assert document is not None
    return document


def as_date(document: dict, field: str) -> datetime:
    """The stored BSON date as an aware UTC datetime (mongomock's client is not tz_aware)."""
    value = document[field]
    assert isinstance(value, datetime), f"{field} is stored as {type(value).__name__}"
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def assert_stored_as_date(document: dict, field: str, moment: datetime) -> None:
    date = as_date(document, field)
    assert date.microsecond % 1000 == 0  # what a BSON date holds
    assert (date, document[f"{field}_us"]) == (moment - timedelta(microseconds=moment.microsecond % 1000), moment.microsecond % 1000)


def text(moment: datetime, z: bool = False) -> str:
    """A moment as earlier versions stored it: utc_text, or (before that) with a Z suffix."""
    return utc_text(moment).replace("+00:00", "Z") if z else utc_text(moment)


# ---------------------------------------------------------------- what is stored


def test_every_moment_is_stored_as_a_bson_date_with_its_microseconds(database):
    at = T0 + timedelta(microseconds=7)
    MongoPredictionRepository(database).add(prediction("p-1", 0.8, "c-1", created_at=at))
    assert_stored_as_date(raw(database, PREDICTIONS, "p-1"), "created_at", at)
    assert_stored_as_date(raw(database, LATEST, "c-1"), "created_at", at)

    jobs = MongoJobStore(database)
    jobs.save(job("j-1", at, owner="me").started(at + timedelta(seconds=1)).succeeded(ModelRef("churn-gb", 1), {"f1": 0.5}, at + timedelta(seconds=2)))
    jobs.save(job("j-2", at, owner="me").started(at + timedelta(seconds=1)))
    jobs.heartbeat("me", at + timedelta(seconds=3, microseconds=5))
    done, beating = raw(database, JOBS, "j-1"), raw(database, JOBS, "j-2")
    for field, moment in [("created_at", at), ("started_at", at + timedelta(seconds=1)), ("finished_at", at + timedelta(seconds=2))]:
        assert_stored_as_date(done, field, moment)
    assert_stored_as_date(beating, "heartbeat_at", at + timedelta(seconds=3, microseconds=5))
    assert (beating["finished_at"], beating["finished_at_us"]) == (None, None)
    assert jobs.interrupt_stale(at + timedelta(seconds=4), at + timedelta(seconds=5, microseconds=9)) == ["j-2"]
    assert_stored_as_date(raw(database, JOBS, "j-2"), "finished_at", at + timedelta(seconds=5, microseconds=9))

    MongoDatasetStore(database).add(dataset("telco", at), CSV)
    assert_stored_as_date(raw(database, DATASETS, "telco"), "created_at", at)

    models = MongoModelRecordRepository(database)
    models.save(record("churn-gb", 1, at))
    stored_record = raw(database, MODELS, "churn-gb:1")
    assert_stored_as_date(stored_record, "finished_at", at)
    assert_stored_as_date(stored_record, "started_at", at - timedelta(seconds=3, microseconds=141590))

    runs = MongoScoringRunStore(database)
    run = ScoringRun.new(ModelRef("churn-gb", 1), 3, None, at, "me")
    runs.save(run)
    claimed = run.started(at + timedelta(microseconds=1), 0, None, "me")
    assert runs.claim(claimed, expected=runs.get(run.run_id)) is True
    stored_run = raw(database, SCORING_RUNS, run.run_id)
    assert_stored_as_date(stored_run, "created_at", at)
    assert_stored_as_date(stored_run, "heartbeat_at", at + timedelta(microseconds=1))

    MongoOutcomeRepository(database).add_many([Outcome("c-1", True, at)])
    assert_stored_as_date(raw(database, OUTCOMES, f"c-1|{at.date()}"), "observed_at", at)

    # and every one reads back exact, to the microsecond
    assert MongoPredictionRepository(database).for_customer("c-1", PageRequest()).items[0].created_at == at
    assert jobs.get("j-1").finished_at == at + timedelta(seconds=2)
    assert MongoDatasetStore(database).get("telco").created_at == at
    assert models.get(ModelRef("churn-gb", 1)) == record("churn-gb", 1, at)
    assert runs.get(run.run_id) == claimed
    assert MongoOutcomeRepository(database).list_all() == [Outcome("c-1", True, at)]


# ---------------------------------------------------------------- documents stored as text


def legacy_prediction(database: MongoDatabase, p: Prediction, z: bool = False) -> None:
    """A prediction (and the customer's latest risk) as versions before BSON dates stored them."""
    document = {
        "_id": p.prediction_id,
        "customer_id": p.customer_id,
        "features": dict(p.features),
        "churn_probability": p.churn_probability,
        "band": p.band.value,
        "model_name": p.model.name,
        "model_version": p.model.version,
        "created_at": text(p.created_at, z),
        "reasons": None,
    }
    database.collection(PREDICTIONS).insert_one(document)
    latest = {k: v for k, v in document.items() if k != "_id"}
    latest.update(prediction_id=p.prediction_id, order=f"{document['created_at']}|{p.prediction_id}")
    database.collection(LATEST).replace_one({"_id": p.customer_id}, latest, upsert=True)


def test_predictions_stored_as_text_read_and_list_in_time_order_among_dates(database):
    repository = MongoPredictionRepository(database)
    old = [
        prediction("old-a", 0.6, "c-1", created_at=T0),
        prediction("old-b", 0.6, "c-2", created_at=T0 + timedelta(microseconds=1)),
        prediction("old-c", 0.6, "c-3", created_at=T0 + timedelta(microseconds=1)),
        prediction("old-d", 0.9, "c-4", created_at=T0 + timedelta(seconds=1)),
        prediction("old-e", 0.3, "c-5", created_at=T0 + timedelta(seconds=2)),
    ]
    for p in old:
        legacy_prediction(database, p, z=p.prediction_id in {"old-a", "old-d"})  # ties only within one form (Z sorts after +00:00)
    new = [
        prediction("new-a", 0.6, "c-6", created_at=T0 + timedelta(minutes=1)),
        prediction("new-b", 0.6, "c-7", created_at=T0 + timedelta(minutes=1, microseconds=1)),
        prediction("new-c", 0.6, "c-8", created_at=T0 + timedelta(minutes=1, microseconds=1)),
        prediction("new-d", 0.9, "c-9", created_at=T0 + timedelta(minutes=2)),
        prediction("new-e", 0.6, "c-1", created_at=T0 + timedelta(minutes=3)),  # c-1 again: now its latest
    ]
    repository.add_many(new[:2])
    for p in new[2:]:
        repository.add(p)
    everything = band_order(old + new)

    assert list(repository.in_range(ALL, None, PageRequest(limit=100)).items) == everything
    for limit in (1, 2, 3, 4):
        walked, after = [], None
        while True:
            page = repository.in_range(ALL, None, PageRequest(limit=limit, after=after))
            walked.extend(page.items)
            if page.next is None:
                break
            after = PredictionCursor.decode(page.next)
        assert walked == everything  # no duplicate, no gap across the text/date boundary
        latest, after = [], None
        while True:
            page = repository.latest_in_range(ALL, None, PageRequest(limit=limit, after=after))
            latest.extend(page.items)
            if page.next is None:
                break
            after = PredictionCursor.decode(page.next)
        assert latest == band_order([p for p in old + new if p.prediction_id != "old-a"])

    assert list(repository.for_customer("c-1", PageRequest()).items) == [new[4], old[0]]
    assert repository.count_by_day(T0 + timedelta(microseconds=1)) == {T0.date(): 9}
    assert [i.probability for i in repository.inputs_of(GB1, T0 + timedelta(seconds=1), 100)] == [0.6, 0.9, 0.6, 0.6, 0.6, 0.3, 0.9]
    assert {(s.customer_id, s.scored_at) for s in repository.scores_of(GB1)} >= {("c-2", T0 + timedelta(microseconds=1)), ("c-1", T0 + timedelta(minutes=3))}


def test_jobs_stored_as_text_read_list_oldest_first_and_lapse(database):
    store = MongoJobStore(database)
    older = [job("old-queued", T0, owner="gone"), job("old-running", T0 + timedelta(seconds=1), owner="here").started(T0 + timedelta(seconds=2))]
    for i, stored in enumerate(older):
        document = job_document(stored)
        for field in ("created_at", "started_at", "finished_at", "heartbeat_at"):
            if document[field] is not None:
                document[field] = text(datetime.fromisoformat(document[field]), z=i == 0)
        database.collection(JOBS).insert_one({"_id": stored.job_id, **document})
    store.save(job("new-queued", T0 + timedelta(minutes=1), owner="gone"))

    assert store.get("old-queued") == job("old-queued", T0, owner="gone")
    assert [j.job_id for j in store.unfinished()] == ["old-queued", "old-running", "new-queued"]
    assert store.heartbeat("here", T0 + timedelta(minutes=5)) == 1
    assert store.get("old-running").heartbeat_at == T0 + timedelta(minutes=5)
    assert store.interrupt_stale(T0 + timedelta(minutes=2), T0 + timedelta(minutes=6)) == ["old-queued", "new-queued"]
    assert store.get("old-queued").status is JobStatus.FAILED and store.get("old-queued").error == INTERRUPTED
    assert store.get("old-running").status is JobStatus.RUNNING


def test_data_sets_records_runs_and_outcomes_stored_as_text_still_read_in_order(database):
    old_set = dataset_document(dataset("old", T0))
    database.collection(DATASETS).insert_one({"_id": "old", **old_set, "created_at": text(T0, z=True), "upload_id": "u", "chunks": 1, "size": len(CSV)})
    database.collection("DATASET_CHUNKS").insert_one({"upload_id": "u", "n": 0, "data": CSV})
    datasets = MongoDatasetStore(database)
    datasets.add(dataset("new", T0 + timedelta(days=1)), CSV)
    assert [d.name for d in datasets.list()] == ["old", "new"] and datasets.get("old") == dataset("old", T0)

    old_record = record("churn-gb", 1, T0)
    database.collection(MODELS).insert_one({"_id": "churn-gb:1", **record_document(old_record)})
    models = MongoModelRecordRepository(database)
    models.save(record("churn-gb", 2, T0 + timedelta(days=1)))
    assert [r.ref.version for r in models.list()] == [2, 1] and models.get(ModelRef("churn-gb", 1)) == old_record

    runs = MongoScoringRunStore(database)
    old_run = ScoringRun.new(ModelRef("churn-gb", 1), 5, None, T0, "a").failed("boom", T0 + timedelta(seconds=1))
    database.collection(SCORING_RUNS).insert_one({"_id": old_run.run_id, **old_run.to_dict()})
    new_run = ScoringRun.new(ModelRef("churn-gb", 1), 5, None, T0 + timedelta(days=1), "a")
    runs.save(new_run)
    assert [r.run_id for r in runs.list(10)] == [new_run.run_id, old_run.run_id]
    read = runs.get(old_run.run_id)
    assert read == old_run
    assert runs.claim(read.queued_again(T0 + timedelta(seconds=5), "b"), expected=read) is True  # compare-and-set on the text
    assert runs.claim(read.queued_again(T0 + timedelta(seconds=6), "c"), expected=read) is False
    assert runs.get(old_run.run_id).status is RunStatus.QUEUED and runs.get(old_run.run_id).owner == "b"

    outcome = Outcome("c-1", True, T0)
    database.collection(OUTCOMES).insert_one({"_id": f"c-1|{T0.date()}", "customer_id": "c-1", "churned": True, "observed_at": text(T0, z=True)})
    outcomes = MongoOutcomeRepository(database)
    assert outcomes.list_all() == [outcome]
    report = outcomes.add_many([outcome])
    assert (report.inserted, report.updated, report.unchanged) == (0, 0, 1)


def test_an_index_built_by_an_earlier_version_with_other_keys_is_rebuilt(database):
    database.collection(PREDICTIONS).drop_index("by_customer")
    database.collection(PREDICTIONS).create_index([("customer_id", 1), ("created_at", -1), ("_id", -1)], name="by_customer")
    MongoDatabase(database.client, database.name)
    keys = [tuple(k) for k in database.collection(PREDICTIONS).index_information()["by_customer"]["key"]]
    assert keys == [("customer_id", 1), ("created_at", -1), ("created_at_us", -1), ("_id", -1)]
    assert Counter(i["key"][0][0] for i in database.collection(PREDICTIONS).index_information().values())["customer_id"] == 1
