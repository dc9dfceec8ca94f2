"""High-cardinality text columns: the trainer groups rare categories into one infrequent column,
and the compiled scoring path groups them (and unseen ones) exactly as scikit-learn does."""

from __future__ import annotations

import random
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import adapters.sklearn_trainer as sklearn_trainer
from adapters.fast_scoring import SklearnChurnModel, to_frame
from adapters.fast_scoring.encoding import NotCompilable, RowEncoder
from adapters.sklearn_trainer import MAX_CATEGORIES_PER_COLUMN, SklearnTrainer
from churn.errors import TrainingFailedError
from churn.datasets import Dataset
from churn.model_types import CATALOG, model_type
from tests.support.profiling import profile_dataset

BANK = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "bank_customer_churn.csv"
STRICT = 1e-9
FREQUENT = ("north", "south", "east")
RARE = tuple(f"town-{i:03d}" for i in range(120))


def cities_csv(rows: int = 400, seed: int = 11) -> bytes:
    """Three big cities and 120 small towns (one or two rows each), a few blank; towns churn more, as
    does the monthly plan, so the infrequent column carries signal."""
    rng = random.Random(seed)
    lines = ["account,tenure,city,plan,left"]
    for i in range(rows):
        city = RARE[(i // 3) % len(RARE)] if i % 3 == 0 else rng.choice(FREQUENT)
        plan = rng.choice(("monthly", "yearly"))
        tenure = rng.randint(0, 60)
        risk = 0.9 * city.startswith("town") + 0.8 * (plan == "monthly") - tenure / 30 + rng.gauss(0, 0.7)
        city_cell = "" if i % 50 == 7 else city
        lines.append(f"A{i:04d},{tenure},{city_cell},{plan},{1 if risk > 0 else 0}")
    return ("\n".join(lines) + "\n").encode()


def dataset(content: bytes, target: str = "left", id_column: str = "account") -> Dataset:
    return profile_dataset("cities", content, target, id_column, datetime(2025, 1, 1, tzinfo=timezone.utc))


CONTENT = cities_csv()
DATASET = dataset(CONTENT)


@pytest.fixture(scope="module", params=[m.name for m in CATALOG])
def model(request: pytest.FixtureRequest) -> SklearnChurnModel:
    return SklearnTrainer(seed=42).train(DATASET, CONTENT, model_type(request.param), {}).model


@pytest.fixture(scope="module")
def linear() -> SklearnChurnModel:
    return SklearnTrainer(seed=42).train(DATASET, CONTENT, model_type("logistic_regression"), {}).model


def city_encoder(model: SklearnChurnModel) -> OneHotEncoder:
    """The fitted encoder of the text columns (city, then plan)."""
    return model.pipeline.named_steps["preprocess"].named_transformers_["categorical"].named_steps["encode"]


def requests(model: SklearnChurnModel) -> list[dict]:
    """Every way a city can arrive: frequent (a big city, a town that kept its own column), grouped as
    infrequent, never seen, unknown (None)."""
    encoder = city_encoder(model)
    infrequent = {str(c) for c in encoder.infrequent_categories_[0]}
    kept_town = next(str(c) for c in encoder.categories_[0] if str(c).startswith("town") and str(c) not in infrequent)
    base = dict(model.probe_rows[0])
    cities = [FREQUENT[0], FREQUENT[2], kept_town, min(infrequent), "Atlantis", None]
    plans = ["monthly", "weekly", None]
    return [{**base, "city": city, "plan": plan} for city in cities for plan in plans] + [{**base, "tenure": None, "city": None}]


def test_a_column_of_many_rare_values_is_encoded_into_max_categories_columns(linear: SklearnChurnModel) -> None:
    """Without grouping, 120 towns would be 120 one-hot columns; the small plan column keeps its own columns."""
    encoder = city_encoder(linear)
    city_infrequent, plan_infrequent = encoder.infrequent_categories_
    assert city_infrequent is not None and set(map(str, city_infrequent)) <= set(RARE)
    assert plan_infrequent is None
    names = list(encoder.get_feature_names_out(["city", "plan"]))
    assert sum(n.startswith("city_") for n in names) == MAX_CATEGORIES_PER_COLUMN
    assert names[MAX_CATEGORIES_PER_COLUMN - 1] == "city_infrequent_sklearn"


def test_the_schema_lists_every_category_seen_in_training_grouped_ones_included(linear: SklearnChurnModel) -> None:
    """A grouped town is still a valid input, so clients must find it in the schema."""
    city = next(f for f in linear.schema.features if f.name == "city")
    seen = tuple(sorted(str(c) for c in city_encoder(linear).categories_[0]))
    assert city.categories == seen
    assert len(seen) > MAX_CATEGORIES_PER_COLUMN and set(FREQUENT) <= set(seen)
    assert {str(c) for c in city_encoder(linear).infrequent_categories_[0]} <= set(seen)


def test_row_and_matrix_equal_the_preprocess_step_for_every_kind_of_category(linear: SklearnChurnModel) -> None:
    preprocess = linear.pipeline.named_steps["preprocess"]
    encoder = RowEncoder.compile(preprocess)
    rows = requests(linear)
    expected = preprocess.transform(to_frame(rows, linear.schema))
    assert np.array_equal(np.array([encoder.row(row) for row in rows]), expected)
    assert np.array_equal(encoder.matrix(rows), expected)


def test_unseen_cities_share_the_infrequent_column_and_unseen_plans_encode_as_zeros(linear: SklearnChurnModel) -> None:
    """scikit-learn's handle_unknown="infrequent_if_exist": the bucket when the feature has one, else nothing."""
    encoder = RowEncoder.compile(linear.pipeline.named_steps["preprocess"])
    city, plan = encoder.categorical
    bucket = city.positions[str(city_encoder(linear).infrequent_categories_[0][0])]
    assert bucket == max(city.positions.values()) and city.unknown == bucket
    assert plan.unknown is None
    row = encoder.row({**linear.probe_rows[0], "city": "Atlantis", "plan": "weekly"})
    assert row[bucket] == 1.0 and all(row[p] == 0.0 for p in set(plan.positions.values()))


def test_every_model_type_gets_a_compiled_path_within_a_billionth(model: SklearnChurnModel) -> None:
    assert model.serving_path != "sklearn"
    assert model.parity is not None and model.parity <= STRICT
    rows = requests(model)
    expected = model.pipeline.predict_proba(to_frame(rows, model.schema))[:, 1]
    assert np.abs(np.array([model.score(row) for row in rows]) - expected).max() <= STRICT
    assert np.abs(np.array(model.score_many(rows * 2)) - np.tile(expected, 2)).max() <= STRICT


def test_the_width_limit_counts_encoded_columns_not_distinct_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """123 cities and towns plus 2 plans encode into 52 columns, under a limit of 60; 3 city columns do not."""
    monkeypatch.setattr(sklearn_trainer, "MAX_ENCODED_COLUMNS", 60)
    SklearnTrainer().train(DATASET, CONTENT, model_type("logistic_regression"), {})
    lines = CONTENT.decode().splitlines()
    wide = "\n".join([lines[0] + ",city2,city3"] + [f"{line},{line.split(',')[2]},{line.split(',')[2]}" for line in lines[1:]]).encode()
    with pytest.raises(TrainingFailedError, match="one-hot encoded into 152 columns"):
        SklearnTrainer().train(dataset(wide), wide, model_type("logistic_regression"), {})


def test_too_many_distinct_text_values_in_all_fail_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """Grouping bounds the width, not the schema, which lists every category."""
    monkeypatch.setattr(sklearn_trainer, "MAX_DISTINCT_CATEGORIES", 100)
    with pytest.raises(TrainingFailedError, match="distinct values in all; the limit is 100"):
        SklearnTrainer().train(DATASET, CONTENT, model_type("logistic_regression"), {})


@pytest.mark.slow
@pytest.mark.skipif(not BANK.exists(), reason="the bank CSV is not in ../shared/data")
def test_bank_surnames_are_grouped_and_served_by_the_compiled_path() -> None:
    """~2,900 surnames were ~2,900 dense columns (minutes of gradient boosting); now 50, still compiled."""
    content = BANK.read_bytes()
    bank = dataset(content, target="Exited", id_column="CustomerId")
    trained = SklearnTrainer().train(bank, content, model_type("logistic_regression"), {})
    model = trained.model
    assert model.serving_path == "numpy-linear" and model.parity <= STRICT
    assert model.pipeline.named_steps["preprocess"].transform(to_frame(model.probe_rows[:1], model.schema)).shape[1] < 100
    surname = next(f for f in model.schema.features if f.name == "Surname")
    assert len(surname.categories) > 2000
    assert trained.metrics["roc_auc"] > 0.7



@pytest.mark.parametrize(
    "strategy, last, cells",
    [
        ("median", StandardScaler(), {"blank": [np.nan] * 4, "fee": [10.0, 20.0, 10.0, 20.0]}),
        ("most_frequent", OneHotEncoder(handle_unknown="ignore"), {"blank": [np.nan] * 4, "plan": ["basic", "premium", "basic", "basic"]}),
    ],
    ids=["numeric", "categorical"],
)
def test_a_column_blank_in_every_training_row_leaves_the_encoder_uncompiled(strategy: str, last: Any, cells: dict[str, list[Any]]) -> None:
    """SimpleImputer drops such a column from its output but keeps it in `statistics_`: the compiled
    path refuses it (the model keeps scikit-learn's) rather than shift every later column by one."""
    impute_then = Pipeline([("impute", SimpleImputer(strategy=strategy)), ("last", last)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Skipping features without any observed values"
        preprocess = ColumnTransformer([("part", impute_then, list(cells))]).fit(pd.DataFrame(cells))
    assert preprocess.named_transformers_["part"].named_steps["last"].n_features_in_ == 1  # the blank column is gone
    with pytest.raises(NotCompilable, match="dropped an empty column"):
        RowEncoder.compile(preprocess)
