"""A scoring run's columnar path (ChurnModel.assess_many, PredictionBatch, PredictionRepository.add_batch)
stores exactly what the per-row path (score_many, reasons_many, a Prediction each, add_many) stored
for the same customers: the same rows in SQLite, reasons included, and the same latest risk."""

from __future__ import annotations

import csv
import io
import pickle
import sqlite3
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from adapters.fast_scoring import explain
from adapters.memory import InMemoryPredictionRepository
from adapters.sklearn_trainer import SklearnTrainer
from adapters.sqlite.database import SqliteDatabase
from adapters.sqlite.predictions import SqlitePredictionRepository
from churn.customers import Customer, parse_value
from churn.feature_batches import check_records
from churn.model_types import model_type
from churn.paging import PageRequest
from churn.predictions import Prediction
from churn.reasons import ExplanationMethod
from churn.scoring_runs import ScoringRun
from churn.training_options import Calibration, TrainingOptions
from churn.use_cases.score_customer_base import Batch, score_batch
from churn.versions import ModelRef
from tests.integration.test_trainer import CONTENT, DATASET

NOW = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)
REF = ModelRef("churn", 3)
MODELS = {  # one of each explanation method, calibrated and not
    "logistic_regression": ({}, Calibration.SIGMOID, 10**9, ExplanationMethod.LINEAR),
    "gradient_boosting": ({"n_estimators": 15}, Calibration.NONE, 10**9, ExplanationMethod.TREE_SHAP),
    "random_forest": ({"n_estimators": 15}, Calibration.ISOTONIC, 0, ExplanationMethod.TREE_PATH),
    "knn": ({}, None, 10**9, ExplanationMethod.BASELINE_SUBSTITUTION),
}


@pytest.fixture(scope="module", params=list(MODELS))
def model(request: pytest.FixtureRequest):
    hyper, calibration, budget, method = MODELS[request.param]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(explain, "TREE_SHAP_BUDGET", budget)  # the explainer is chosen when the model is built
        options = TrainingOptions(calibration=calibration, cv_folds=0)
        m = SklearnTrainer(seed=42).train(DATASET, CONTENT, model_type(request.param), hyper, options=options).model
    assert m.explanation_method == method
    return m


def customers() -> list[Customer]:
    """The training file's customers as CLIENTES holds them, and two the model cannot take."""
    rows = list(csv.DictReader(io.StringIO(CONTENT.decode())))
    out = [Customer(r["customer_id"], {k: parse_value(v) for k, v in r.items() if k not in ("customer_id", "churn")}) for r in rows]
    out[5] = Customer(out[5].customer_id, {k: v for k, v in out[5].attributes.items() if k != "tenure"})  # a feature missing
    out[9] = Customer(out[9].customer_id, {**out[9].attributes, "monthly_charges": [1, 2]})  # a value no kind takes
    return out


def by_row(model, run: ScoringRun, chosen: list[Customer]) -> list[Prediction]:
    """The per-row path as the scoring run took it before the columnar batch."""
    checked = check_records(model.schema, [c.attributes for c in chosen])
    scores = model.score_many(checked.encoded)
    reasons = model.reasons_many(checked.encoded, checked.rows)
    return [
        Prediction.new(chosen[i].customer_id, row, p, REF, NOW, r, run.run_id, threshold=model.threshold)
        for i, row, p, r in zip(checked.kept, checked.rows, scores, reasons, strict=True)
    ]


def stored(path) -> dict[str, list[tuple]]:
    """What the SQLite file holds, but the ids made up at random (prediction_id) or by insertion (seq)."""
    with sqlite3.connect(path) as db:
        return {
            "predictions": db.execute(
                "SELECT customer_id, churn_probability, band, model_name, model_version, created_at, features, reasons, run_id, threshold "
                "FROM predictions ORDER BY customer_id"
            ).fetchall(),
            "latest": db.execute(
                "SELECT l.customer_id, l.churn_probability, l.band, l.model_name, l.model_version, l.created_at, p.customer_id "
                "FROM latest_predictions l JOIN predictions p ON p.seq = l.seq ORDER BY l.customer_id"
            ).fetchall(),
            "prediction_counts": db.execute("SELECT * FROM prediction_counts ORDER BY 1, 2, 3").fetchall(),
            "latest_counts": db.execute("SELECT * FROM latest_counts WHERE n > 0 ORDER BY 1, 2, 3").fetchall(),
        }


@pytest.mark.parametrize("size", [300, 12])  # a run's batch, and one small enough for the one-row scoring path
def test_the_columnar_batch_stores_what_the_per_row_path_stored(tmp_path, model, size) -> None:
    chosen = customers()[:size]
    run = ScoringRun.new(REF, len(chosen), None, NOW)
    expected = by_row(model, run, chosen)
    scored = score_batch(model, REF, run, Batch(chosen, 0, chosen[-1].customer_id), NOW)
    assert len(scored.predictions) == len(expected) == size - 2 and sum(scored.skipped.values()) == 2
    assert any(p.reasons for p in expected)  # the comparison covers reasons, not only empty ones

    by_row_db, columnar_db = SqliteDatabase(tmp_path / "rows.db"), SqliteDatabase(tmp_path / "columns.db")
    SqlitePredictionRepository(by_row_db).add_many(expected)
    SqlitePredictionRepository(columnar_db).add_batch(scored.predictions)
    assert stored(tmp_path / "columns.db") == stored(tmp_path / "rows.db")
    by_row_db.close()
    columnar_db.close()

    # and as values: the same predictions, but for their fresh ids
    made = scored.predictions.predictions()
    assert [replace(p, prediction_id="") for p in made] == [replace(p, prediction_id="") for p in expected]
    memory = InMemoryPredictionRepository()
    memory.add_batch(scored.predictions)
    assert memory.for_customer(made[0].customer_id, PageRequest()).items == [made[0]]


def test_a_model_sent_back_by_the_training_worker_assesses_as_before(model) -> None:
    """The training worker pickles the model it trained: whatever assess_many keeps (a forest's
    leaf scoring with its calibrator) must survive it."""
    columns = check_records(model.schema, [c.attributes for c in customers()]).columns
    assert pickle.loads(pickle.dumps(model)).assess_many(columns) == model.assess_many(columns)
