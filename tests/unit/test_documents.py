"""The stores' one document codec (adapters/documents.py): the same document for SQLite and MongoDB,
one text form of a moment, and what older versions wrote still read."""

from datetime import datetime, timezone

from adapters.documents import dataset_document, dataset_of, job_document, job_of, moment_of
from churn.datasets import Dataset
from churn.training_jobs import TrainingJob
from churn.versions import ModelRef

T0 = datetime(2026, 11, 30, 8, 15, 42, 123456, tzinfo=timezone.utc)


def test_a_job_round_trips_and_its_moments_are_one_sortable_text():
    job = TrainingJob.new("telco", "knn", {"n_neighbors": 5}, "churn-knn", True, T0, owner="host:1").started(T0)
    job = job.succeeded(ModelRef("churn-knn", 3), {"roc_auc": 0.8}, T0)
    document = job_document(job)
    assert job_of(document) == job
    assert document["created_at"] == document["finished_at"] == "2026-11-30T08:15:42.123456+00:00"


def test_what_older_stores_wrote_is_still_read():
    micros = 1_796_026_542_123_456  # SQLite documents held microseconds since the epoch
    assert moment_of(micros) == T0
    assert moment_of("2026-11-30T08:15:42.123456Z") == T0  # MongoDB documents held a Z suffix
    job = job_document(TrainingJob.new("telco", "knn", {}, "churn-knn", False, T0).started(T0).succeeded(ModelRef("churn-knn", 1), {}, T0))
    older = {**job, "created_at": micros, "started_at": micros, "finished_at": micros, "heartbeat_at": None, "model": ["churn-knn", 1]}
    del older["options"], older["promotion"], older["columns"], older["owner"]
    read = job_of(older)
    assert (read.created_at, read.finished_at, read.model) == (T0, T0, ModelRef("churn-knn", 1))


def test_a_dataset_round_trips():
    dataset = Dataset("telco", 7043, ("customerID", "tenure", "Churn"), "Churn", "Yes", 0.265, "ab" * 32, T0, id_column="customerID")
    assert dataset_of(dataset_document(dataset)) == dataset
