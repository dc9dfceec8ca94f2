"""The Trainer port on scikit-learn, and the fast scoring path it hands out (issue 4)."""

from __future__ import annotations

import dataclasses

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

import adapters.fast_scoring.model as fast_model
import adapters.fast_scoring.trees as trees
from adapters.fast_scoring import PARITY_TOLERANCE, SklearnChurnModel, to_frame
from adapters.sklearn_trainer import SklearnTrainer
from churn.errors import TrainingFailedError
from churn.datasets import Dataset
from churn.features import FeatureKind
from churn.model_types import CATALOG, model_type
from churn.ports import ChurnModel, TrainedModel, Trainer
from tests.support.profiling import profile_dataset
from churn.training_options import Calibration, TrainingOptions

UNCALIBRATED = TrainingOptions(calibration=Calibration.NONE, cv_folds=0)

TELCO = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "telco_customer_churn.csv"
CONTRACTS = ("Month-to-month", "One year", "Two year")


def customers_csv(rows: int = 300, seed: int = 7) -> bytes:
    """Synthetic customers: short month-to-month contracts with high charges churn more."""
    rng = random.Random(seed)
    lines = ["customer_id,tenure,monthly_charges,senior,contract,paperless,churn"]
    for i in range(rows):
        tenure = rng.randint(0, 72)
        monthly = round(rng.uniform(20, 110), 2)
        senior = rng.choice((0, 0, 0, 1))
        contract = rng.choice(CONTRACTS)
        paperless = rng.choice(("Yes", "No"))
        risk = 1.5 * (contract == "Month-to-month") - tenure / 30 + (monthly - 60) / 40 + 0.5 * senior
        churn = "Yes" if risk + rng.gauss(0, 0.8) > 0.3 else "No"
        tenure_cell = "" if i in (3, 41) else str(tenure)
        contract_cell = "" if i == 17 else contract
        lines.append(f"C{i:04d},{tenure_cell},{monthly},{senior},{contract_cell},{paperless},{churn}")
    return ("\n".join(lines) + "\n").encode()


def dataset(content: bytes, target: str = "churn", id_column: str | None = "customer_id", name: str = "customers") -> Dataset:
    return profile_dataset(name, content, target, id_column, datetime(2025, 1, 1, tzinfo=timezone.utc))


CONTENT = customers_csv()
DATASET = dataset(CONTENT)


@pytest.fixture(scope="module", params=[m.name for m in CATALOG])
def trained(request: pytest.FixtureRequest) -> TrainedModel:
    return SklearnTrainer(seed=42).train(DATASET, CONTENT, model_type(request.param), {}, options=TrainingOptions(cv_folds=2))


def rows_of(model: SklearnChurnModel) -> list[dict]:
    """The probe rows plus requests the hold-out may not contain: unknown category, every value unknown."""
    extra = [
        {**model.probe_rows[0], "contract": "Lifetime", "paperless": None},
        dict.fromkeys(model.schema.names),
        {**model.probe_rows[1], "tenure": 1000.0, "monthly_charges": -5.0},
    ]
    return model.probe_rows + extra


def sklearn_p(model: SklearnChurnModel, rows: list[dict]) -> np.ndarray:
    return model.pipeline.predict_proba(to_frame(rows, model.schema))[:, 1]


def test_the_trainer_and_its_models_subclass_the_ports() -> None:
    assert Trainer in SklearnTrainer.__mro__
    assert ChurnModel in SklearnChurnModel.__mro__


def test_hold_out_metrics_are_present_and_in_range(trained: TrainedModel) -> None:
    metrics = trained.metrics
    assert set(metrics) == {"roc_auc", "pr_auc", "ece", "accuracy", "precision", "recall", "f1", "log_loss", "brier"}
    for name, value in metrics.items():
        assert isinstance(value, float) and value == round(value, 6)
        assert value >= 0.0 and (name == "log_loss" or value <= 1.0)
    assert metrics["roc_auc"] > 0.7
    assert trained.training_seconds > 0.0


def test_schema_types_columns_like_the_customer_reader(trained: TrainedModel) -> None:
    schema = trained.model.schema
    assert schema.names == ("tenure", "monthly_charges", "senior", "contract", "paperless")
    kinds = {f.name: f for f in schema.features}
    assert kinds["tenure"].kind is FeatureKind.NUMBER and isinstance(kinds["tenure"].example, float)
    assert kinds["senior"].kind is FeatureKind.BOOLEAN and kinds["senior"].categories == ("0", "1")
    assert kinds["contract"].kind is FeatureKind.CATEGORY
    assert kinds["contract"].categories == CONTRACTS
    assert kinds["contract"].example in CONTRACTS
    assert kinds["paperless"].kind is FeatureKind.BOOLEAN and kinds["paperless"].categories == ("No", "Yes")
    assert schema.check(schema.example()) == schema.example()


def test_the_drift_reference_bins_the_training_split_and_the_hold_out_probabilities(trained: TrainedModel) -> None:
    reference = trained.drift_reference
    assert reference is not None and reference.rows == 240  # the training split of 300 rows
    assert [(f.name, f.kind) for f in reference.features] == [(f.name, f.kind.value) for f in trained.model.schema.features]
    by_name = {f.name: f for f in reference.features}
    contract = by_name["contract"]
    assert set(contract.categories) == set(CONTRACTS)
    assert list(contract.shares[:3]) == sorted(contract.shares[:3], reverse=True)  # most frequent first
    assert set(by_name["paperless"].categories) == {"false", "true"}
    assert 2 <= len(by_name["tenure"].edges) <= 9
    for feature in (*reference.features, reference.probability):
        assert abs(sum(feature.shares) - 1.0) < 1e-9


def test_fast_path_matches_scikit_learn_within_a_millionth(trained: TrainedModel) -> None:
    model = trained.model
    assert model.serving_path != "sklearn"
    assert model.parity is not None and model.parity <= PARITY_TOLERANCE
    assert 1 <= len(model.probe_rows) <= 200


def test_score_equals_score_many_equals_predict_proba(trained: TrainedModel) -> None:
    model = trained.model
    rows = rows_of(model)
    expected = sklearn_p(model, rows)
    one = np.array([model.score(row) for row in rows])
    assert all(isinstance(model.score(row), float) for row in rows[:3])
    assert np.abs(one - expected).max() <= PARITY_TOLERANCE
    assert np.abs(np.array(model.score_many(rows)) - expected).max() <= PARITY_TOLERANCE
    assert np.abs(np.array(model.score_many(rows[:5])) - expected[:5]).max() <= PARITY_TOLERANCE
    assert model.score_many([]) == []


def test_unknown_category_and_unknown_values_score(trained: TrainedModel) -> None:
    model = trained.model
    unknown = {**model.schema.example(), "contract": "Lifetime", "tenure": None}
    nothing_known = dict.fromkeys(model.schema.names)
    for row in (unknown, nothing_known):
        assert 0.0 <= model.score(row) <= 1.0
    imputed = model.score(nothing_known)
    assert imputed == pytest.approx(model.score(model.schema.example()), abs=PARITY_TOLERANCE)


def test_concurrent_scoring_gives_the_sequential_answers(trained: TrainedModel) -> None:
    model = trained.model
    rows = model.probe_rows * 4
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(model.score, rows)) == [model.score(row) for row in rows]


def test_a_fast_path_off_by_more_than_the_tolerance_is_served_by_sklearn(monkeypatch: pytest.MonkeyPatch) -> None:
    good = SklearnTrainer().train(DATASET, CONTENT, model_type("logistic_regression"), {}).model

    class Skewed:
        serving_path = "numpy-linear"

        def one(self, features):
            return 0.5

        def many(self, rows):
            return np.full(len(rows), 0.5)

    monkeypatch.setattr(fast_model, "compile_predictor", lambda *args: Skewed())
    model = SklearnChurnModel.from_pipeline(good.pipeline, good.schema, good.probe_rows)
    assert model.serving_path == "sklearn"
    assert model.parity is not None and model.parity > PARITY_TOLERANCE
    rows = rows_of(model)
    expected = sklearn_p(model, rows)
    assert np.abs(np.array([model.score(r) for r in rows]) - expected).max() <= 1e-12
    assert np.abs(np.array(model.score_many(rows)) - expected).max() <= 1e-12


def test_a_fast_path_that_crashes_is_served_by_sklearn(monkeypatch: pytest.MonkeyPatch) -> None:
    good = SklearnTrainer().train(DATASET, CONTENT, model_type("decision_tree"), {}).model

    class Broken:
        serving_path = "numpy-trees"

        def one(self, features):
            raise KeyError("tenure")

        many = one

    monkeypatch.setattr(fast_model, "compile_predictor", lambda *args: Broken())
    model = SklearnChurnModel.from_pipeline(good.pipeline, good.schema, good.probe_rows)
    assert (model.serving_path, model.parity) == ("sklearn", None)
    assert model.score(good.probe_rows[0]) == pytest.approx(good.score(good.probe_rows[0]), abs=PARITY_TOLERANCE)


def test_a_pipeline_of_another_shape_is_served_by_sklearn() -> None:
    good = SklearnTrainer().train(DATASET, CONTENT, model_type("logistic_regression"), {}).model
    identity = FunctionTransformer().fit(to_frame(good.probe_rows, good.schema))
    pipeline = Pipeline([("identity", identity), ("rest", good.pipeline)])
    model = SklearnChurnModel.from_pipeline(pipeline, good.schema, good.probe_rows)
    assert (model.serving_path, model.parity) == ("sklearn", None)
    assert model.score(good.probe_rows[0]) == pytest.approx(good.score(good.probe_rows[0]), abs=PARITY_TOLERANCE)


def test_hyperparameters_reach_the_estimator() -> None:
    trained = SklearnTrainer().train(
        DATASET, CONTENT, model_type("random_forest"), {"n_estimators": 7, "class_weight": "balanced", "max_depth": 4}, options=UNCALIBRATED
    )
    forest = trained.model.pipeline.steps[-1][1]
    assert (len(forest.estimators_), forest.class_weight, forest.max_depth, forest.n_jobs) == (7, "balanced", 4, 1)
    assert trained.model.parity <= PARITY_TOLERANCE


def test_training_is_deterministic_for_a_seed() -> None:
    first = SklearnTrainer(seed=3).train(DATASET, CONTENT, model_type("gradient_boosting"), {"n_estimators": 20})
    second = SklearnTrainer(seed=3).train(DATASET, CONTENT, model_type("gradient_boosting"), {"n_estimators": 20})
    assert first.metrics == second.metrics


def test_a_column_blank_in_every_row_declared_ignored_is_left_out_at_upload_and_not_trained_on() -> None:
    lines = CONTENT.decode().splitlines()
    content = "\n".join([lines[0] + ",notes"] + [line + "," for line in lines[1:]]).encode()
    profiled = profile_dataset("customers", content, "churn", "customer_id", datetime(2025, 1, 1, tzinfo=timezone.utc), column_types={"notes": "ignored"})
    assert profiled.profile.column("notes").role == "left out" and "blank in every row" in profiled.profile.column("notes").warnings[0]
    trained = SklearnTrainer().train(profiled, content, model_type("logistic_regression"), {})
    assert "notes" not in trained.model.schema.names


def test_an_identifier_left_among_the_features_is_left_out_at_upload() -> None:
    profiled = dataset(CONTENT, id_column=None)
    assert profiled.profile.column("customer_id").kind.value == "identifier"
    trained = SklearnTrainer().train(profiled, CONTENT, model_type("logistic_regression"), {})
    assert "customer_id" not in trained.model.schema.names


def test_a_data_set_stored_before_profiles_still_trains_as_before() -> None:
    legacy = dataclasses.replace(DATASET, profile=None, reading=None)
    trained = SklearnTrainer().train(legacy, CONTENT, model_type("logistic_regression"), {})
    assert {f.name: f.kind for f in trained.model.schema.features}["paperless"] is FeatureKind.CATEGORY
    with pytest.raises(TrainingFailedError, match=r"customer_id.*identifier"):
        SklearnTrainer().train(dataclasses.replace(legacy, id_column=None), CONTENT, model_type("logistic_regression"), {})


@pytest.mark.slow
@pytest.mark.skipif(not TELCO.exists(), reason="the Telco CSV is not in ../shared/data")
def test_telco_logistic_regression_reaches_the_reference_quality() -> None:
    content = TELCO.read_bytes()
    telco = dataset(content, target="Churn", id_column="customerID", name="telco")
    trained = SklearnTrainer().train(telco, content, model_type("logistic_regression"), {})
    assert 0.80 <= trained.metrics["roc_auc"] <= 0.90
    total_charges = next(f for f in trained.model.schema.features if f.name == "TotalCharges")
    assert total_charges.kind is FeatureKind.NUMBER
    assert trained.model.serving_path == "numpy-linear" and trained.model.parity <= PARITY_TOLERANCE


@pytest.mark.parametrize("walker", ["numpy-trees", "python-trees"])
@pytest.mark.parametrize("name", ["random_forest", "gradient_boosting", "decision_tree"])
def test_both_tree_walkers_match_scikit_learn(monkeypatch: pytest.MonkeyPatch, name: str, walker: str) -> None:
    monkeypatch.setattr(trees, "_fastest", lambda walkers, rows: (walker, walkers[walker]))
    params = {"n_estimators": 30} if name != "decision_tree" else {}
    model = SklearnTrainer().train(DATASET, CONTENT, model_type(name), params, options=UNCALIBRATED).model
    assert model.serving_path == walker and model.parity <= PARITY_TOLERANCE
    rows = rows_of(model)
    assert np.abs(np.array([model.score(r) for r in rows]) - sklearn_p(model, rows)).max() <= PARITY_TOLERANCE
