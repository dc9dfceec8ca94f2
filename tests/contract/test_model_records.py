"""ModelRecordRepository contract (`MODELOS`), for every adapter."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from churn.errors import ModelNotFoundError
from churn.features import FeatureKind, FeatureSchema, FeatureSpec
from churn.versions import ModelRecord, ModelRef, TrainingSummary

T0 = datetime(2026, 3, 1, 12, 0, 0, 987654, tzinfo=timezone.utc)
SCHEMA = FeatureSchema(
    (
        FeatureSpec("tenure", FeatureKind.NUMBER, 12.5),
        FeatureSpec("monthly_charges", FeatureKind.NUMBER, None),
        FeatureSpec("contract", FeatureKind.CATEGORY, "month-to-month", ("month-to-month", "one year", "two year")),
    )
)


def record(name: str = "churn-gb", version: int = 1, finished_at: datetime = T0, **changes) -> ModelRecord:
    fields = {
        "model_type": "gradient_boosting",
        "hyperparameters": {"n_estimators": 200, "learning_rate": 0.1, "max_depth": None},
        "metrics": {"roc_auc": 0.8412345678901234, "accuracy": 0.1 + 0.7, "log_loss": 0.4321},
        "dataset": "telco",
        "dataset_hash": "sha256:" + "cd" * 32,
        "rows": 7043,
        "schema": SCHEMA,
        "training_seconds": 3.14159,
        "started_at": finished_at - timedelta(seconds=3, microseconds=141590),
        "finished_at": finished_at,
    }
    fields.update(changes)
    return ModelRecord(ModelRef(name, version), TrainingSummary(**fields), run_id=f"run-{name}-{version}")


@pytest.fixture
def repository(backend):
    return backend.model_records()


def test_saved_record_comes_back_equal(repository):
    repository.save(record())
    got = repository.get(ModelRef("churn-gb", 1))
    assert got == record()
    assert got.summary.schema == SCHEMA
    assert got.summary.metrics["accuracy"] == 0.1 + 0.7
    assert got.summary.started_at.utcoffset() == timedelta(0)
    assert got.created_at == T0


def test_saving_the_same_version_replaces_it(repository):
    repository.save(record())
    repository.save(record(metrics={"roc_auc": 0.9}))
    assert repository.get(ModelRef("churn-gb", 1)).summary.metrics == {"roc_auc": 0.9}
    assert len(repository.list()) == 1


def test_unknown_version_is_not_found(repository):
    repository.save(record())
    with pytest.raises(ModelNotFoundError):
        repository.get(ModelRef("churn-gb", 2))
    with pytest.raises(ModelNotFoundError):
        repository.get(ModelRef("other", 1))


def test_list_is_newest_first_then_name_then_version_desc(repository):
    repository.save(record("b-model", 1, T0))
    repository.save(record("a-model", 1, T0))
    repository.save(record("a-model", 2, T0))
    repository.save(record("old", 7, T0 - timedelta(microseconds=1)))
    repository.save(record("new", 1, T0 + timedelta(days=1)))
    assert [str(r.ref) for r in repository.list()] == ["new:1", "a-model:2", "a-model:1", "b-model:1", "old:7"]


def test_list_is_empty_at_first(repository):
    assert repository.list() == []


def test_records_survive_a_restart(backend):
    backend.model_records().save(record())
    assert backend.restarted().model_records().list() == [record()]


def test_the_version_last_seen_active_is_kept_and_replaced(repository):
    assert repository.last_active() is None
    repository.mark_active(ModelRef("churn-gb", 1))
    repository.mark_active(ModelRef("churn-lr", 3))
    assert repository.last_active() == ModelRef("churn-lr", 3)
    assert repository.list() == []  # the copy of the pointer is not a record
