"""The Trainer port on scikit-learn: CSV → typed frame → preprocessing + estimator → hold-out metrics.

The file is read as it was at upload (`adapters.frames`, with the data set's encoding, separator and
decimal mark) and each column typed by the kind its profile gave it: numbers under the column's
number format, booleans as 0/1, dates as their age in days at the column's reference date (the
latest date in the file), all three imputed with the median and scaled; categories (stripped, NFC)
imputed with the most frequent value, then one-hot encoded. A text column gets at most
MAX_CATEGORIES_PER_COLUMN one-hot columns: its rarest categories share one infrequent column, and
so do categories never seen in training. Data sets stored before profiles are read as before
(UTF-8, ',', numeric when every cell is a number).
"""

from __future__ import annotations

import io
import math
import time
from datetime import timedelta
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, brier_score_loss, f1_score, log_loss, precision_score, recall_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from adapters import frames
from adapters.fast_scoring import SklearnChurnModel
from churn.columns import ColumnKind, nfc_key
from adapters.fast_scoring.explain import TRAINING_MEANS
from churn.errors import TrainingFailedError
from churn.model import Dataset, FeatureKind, FeatureSchema, FeatureSpec, FeatureValue
from churn.profiles import ColumnProfile, reference_moment
from churn.model_types import ModelType
from churn.ports import Trainer, TrainedModel
from churn.tables import parse_value

PROBE_ROWS = 200
MAX_CATEGORIES_PER_COLUMN = 50
"""One-hot columns per text column at most: the 49 most frequent categories keep their own, the rest
share scikit-learn's infrequent column. Well above the handful of a plan or contract column (Telco's
have at most 4, so its models are unchanged); a surname column costs 50 columns, not thousands."""
MAX_ENCODED_COLUMNS = 5000
"""One-hot width, after grouping, above which training is refused: the dense design matrix would not fit in memory."""
MAX_DISTINCT_CATEGORIES = 50_000
"""Distinct text values, all columns together, above which training is refused: grouping bounds the
width, not the schema, which lists every category (each GET /models answer carries it)."""
MIN_ROWS_FOR_ID_CHECK = 50


class SklearnTrainer(Trainer):
    """Fits one pipeline per call; deterministic for a given seed. Safe to share between threads."""

    def __init__(self, seed: int = 42, test_size: float = 0.2) -> None:
        if not 0.0 < test_size < 1.0:
            raise ValueError("test_size must be between 0 and 1")
        self._seed = seed
        self._test_size = test_size

    def train(
        self,
        dataset: Dataset,
        content: bytes,
        model_type: ModelType,
        hyperparameters: Mapping[str, Any],
        columns: Sequence[str] | None = None,
    ) -> TrainedModel:
        params = model_type.resolve(hyperparameters)
        profiles: dict[str, ColumnProfile] = {}
        if dataset.profile is None or dataset.reading is None:
            raw = read_csv(content)
            frame, kinds = typed_features(raw, tuple(columns or dataset.feature_columns))
            target = (raw[dataset.target].str.strip() == dataset.positive_label.strip()).to_numpy(dtype=np.int64)
        else:
            raw = frames.read_frame(content, dataset.reading)
            profiles = {c: dataset.profile.column(c) for c in (columns or dataset.profile.features)}
            frame, kinds = profiled_features(raw, profiles)
            target = (frames.text_values(raw[dataset.target]) == dataset.positive_label).to_numpy(dtype=np.int64)
        x_train, x_test, y_train, y_test = self._split(frame, target)
        _refuse_unusable_columns(x_train, kinds, check_identifiers=not profiles)
        pipeline = Pipeline([("preprocess", _preprocessor(kinds)), ("model", estimator(model_type.name, params, self._seed))])
        started = time.perf_counter()
        try:
            pipeline.fit(x_train, y_train)
        except (ValueError, ArithmeticError, MemoryError) as exc:
            raise TrainingFailedError(f"{model_type.name} could not be fitted on {dataset.name!r}: {exc}") from None
        seconds = time.perf_counter() - started
        # the encoded training means: the baseline of exact linear contributions (adapters/fast_scoring/explain.py)
        setattr(pipeline, TRAINING_MEANS, np.asarray(pipeline[:-1].transform(x_train), dtype=np.float64).mean(axis=0))
        metrics = holdout_metrics(y_test, pipeline.predict_proba(x_test)[:, 1])
        schema = _schema(pipeline, kinds, profiles)
        probes = probe_rows(x_test.iloc[:PROBE_ROWS], kinds)
        model = SklearnChurnModel.from_pipeline(pipeline, schema, probes)
        return TrainedModel(model=model, metrics=metrics, training_seconds=round(seconds, 6))

    def _split(self, frame: pd.DataFrame, target: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
        """Stratified; at least one row of each class on both sides, so hold-out metrics exist."""
        n = len(frame)
        n_test = min(max(math.ceil(self._test_size * n), 2), n - 2)
        if n_test < 2:
            raise TrainingFailedError(f"too few rows ({n}) for a training set and a hold-out set")
        try:
            return train_test_split(frame, target, test_size=n_test, stratify=target, random_state=self._seed)
        except ValueError as exc:
            raise TrainingFailedError(f"cannot split the data set into training and hold-out sets: {exc}") from None


def read_csv(content: bytes) -> pd.DataFrame:
    """Every cell as text, header names stripped, rows blank in every cell skipped (as `profile_dataset`)."""
    try:
        raw = pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise TrainingFailedError(f"the data set could not be read as CSV: {exc}") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    blank = raw.apply(lambda column: column.str.strip() == "").all(axis=1)
    return raw.loc[~blank].reset_index(drop=True)


def typed_features(raw: pd.DataFrame, columns: tuple[str, ...]) -> tuple[pd.DataFrame, dict[str, FeatureKind]]:
    """The feature columns typed as a whole, like `read_customers`: float64 with NaN, or object with NaN."""
    frame: dict[str, Any] = {}
    kinds: dict[str, FeatureKind] = {}
    for column in columns:
        cells = raw[column].tolist()
        parsed = [parse_value(cell) for cell in cells]
        if all(value is None or isinstance(value, float) for value in parsed):
            kinds[column] = FeatureKind.NUMBER
            frame[column] = np.array([np.nan if value is None else value for value in parsed], dtype=np.float64)
        else:
            kinds[column] = FeatureKind.CATEGORY
            frame[column] = np.array([cell.strip() or np.nan for cell in cells], dtype=object)
    return pd.DataFrame(frame, index=raw.index), kinds


def profiled_features(raw: pd.DataFrame, profiles: Mapping[str, ColumnProfile]) -> tuple[pd.DataFrame, dict[str, FeatureKind]]:
    """The chosen columns typed by their profile: float64 for numbers, booleans (0/1) and dates (age
    in days at the reference), object with NaN for categories."""
    frame: dict[str, Any] = {}
    kinds: dict[str, FeatureKind] = {}
    for name, profile in profiles.items():
        column = raw[name]
        if profile.kind is ColumnKind.NUMERIC:
            kinds[name] = FeatureKind.NUMBER
            frame[name] = frames.number_column(column, profile.number_format).to_numpy(dtype=np.float64)
        elif profile.kind is ColumnKind.BOOLEAN:
            kinds[name] = FeatureKind.BOOLEAN
            false_value, true_value = profile.boolean_values or ("", "")
            keys = frames.text_values(column).str.strip().str.casefold()
            values = np.full(len(column), np.nan)
            values[(keys == nfc_key(true_value)).fillna(False).to_numpy(dtype=bool)] = 1.0
            values[(keys == nfc_key(false_value)).fillna(False).to_numpy(dtype=bool)] = 0.0
            frame[name] = values
        elif profile.kind is ColumnKind.DATE:
            kinds[name] = FeatureKind.DATE
            moments = frames.date_column(column, profile.date_format or "%Y-%m-%d")
            age = (pd.Timestamp(reference_moment(profile)) - moments).dt.total_seconds() / 86400.0
            frame[name] = age.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            kinds[name] = FeatureKind.CATEGORY
            text = frames.text_values(column)
            frame[name] = text.to_numpy(dtype=object, na_value=np.nan)
    return pd.DataFrame(frame, index=raw.index), kinds


def _refuse_unusable_columns(x_train: pd.DataFrame, kinds: Mapping[str, FeatureKind], check_identifiers: bool = True) -> None:
    """TrainingFailedError for columns nothing can be learnt from, or text too wide to encode or list."""
    distinct_in_all = width = 0
    for column, kind in kinds.items():
        values = x_train[column]
        present = values.notna()
        if not present.any():
            raise TrainingFailedError(f"column {column!r} is blank in every training row; drop it or fill it in")
        if kind is FeatureKind.CATEGORY:
            distinct = values[present].nunique()
            distinct_in_all += distinct
            width += min(distinct, MAX_CATEGORIES_PER_COLUMN)
            if check_identifiers and distinct >= MIN_ROWS_FOR_ID_CHECK and distinct == int(present.sum()):
                raise TrainingFailedError(
                    f"column {column!r} has a different value in every row, like an identifier; "
                    "register the data set with it as id_column or drop it"
                )
    if distinct_in_all > MAX_DISTINCT_CATEGORIES:
        raise TrainingFailedError(
            f"the text columns have {distinct_in_all} distinct values in all; the limit is {MAX_DISTINCT_CATEGORIES}: "
            "drop near-unique text columns or bucket them before uploading"
        )
    if width > MAX_ENCODED_COLUMNS:
        raise TrainingFailedError(
            f"the text columns would be one-hot encoded into {width} columns; the limit is {MAX_ENCODED_COLUMNS}: "
            "drop some text columns"
        )


def _preprocessor(kinds: Mapping[str, FeatureKind]) -> ColumnTransformer:
    numeric = [c for c, k in kinds.items() if k.encoded_as_number]
    categorical = [c for c, k in kinds.items() if k is FeatureKind.CATEGORY]
    transformers = []
    if numeric:
        transformers.append(
            ("numeric", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), numeric)
        )
    if categorical:
        transformers.append(
            (
                "categorical",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="most_frequent")),
                        ("encode", _one_hot()),
                    ]
                ),
                categorical,
            )
        )
    return ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0)


def _one_hot() -> OneHotEncoder:
    """Rare and unseen categories share one column, so a high-cardinality column stays narrow (and the
    compiled scoring path reproduces the grouping)."""
    return OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=MAX_CATEGORIES_PER_COLUMN, sparse_output=False)


def estimator(name: str, params: Mapping[str, Any], seed: int) -> ClassifierMixin:
    """The scikit-learn estimator for a catalogue type, from hyperparameters already resolved."""
    class_weight = None if params.get("class_weight", "none") == "none" else params["class_weight"]
    if name == "logistic_regression":
        return LogisticRegression(C=params["C"], max_iter=params["max_iter"], class_weight=class_weight, random_state=seed)
    if name == "random_forest":
        return RandomForestClassifier(
            n_estimators=params["n_estimators"],
            max_depth=params["max_depth"],
            min_samples_leaf=params["min_samples_leaf"],
            max_features=params["max_features"],
            class_weight=class_weight,
            n_jobs=1,
            random_state=seed,
        )
    if name == "gradient_boosting":
        return GradientBoostingClassifier(
            n_estimators=params["n_estimators"],
            learning_rate=params["learning_rate"],
            max_depth=params["max_depth"],
            subsample=params["subsample"],
            random_state=seed,
        )
    if name == "svc":
        svc = SVC(C=params["C"], kernel=params["kernel"], gamma=params["gamma"], random_state=seed)
        return CalibratedClassifierCV(svc, method="sigmoid")
    if name == "decision_tree":
        return DecisionTreeClassifier(
            max_depth=params["max_depth"],
            min_samples_leaf=params["min_samples_leaf"],
            criterion=params["criterion"],
            class_weight=class_weight,
            random_state=seed,
        )
    if name == "knn":
        return KNeighborsClassifier(n_neighbors=params["n_neighbors"], weights=params["weights"])
    raise TrainingFailedError(f"model type {name!r} has no scikit-learn estimator")


def holdout_metrics(y_true: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """The port's seven metrics, rounded to 6 dp; decisions at the domain's 0.5 threshold."""
    predicted = (p >= 0.5).astype(np.int64)
    values = {
        "roc_auc": roc_auc_score(y_true, p),
        "accuracy": accuracy_score(y_true, predicted),
        "precision": precision_score(y_true, predicted, zero_division=0),
        "recall": recall_score(y_true, predicted, zero_division=0),
        "f1": f1_score(y_true, predicted, zero_division=0),
        "log_loss": log_loss(y_true, p, labels=[0, 1]),
        "brier": brier_score_loss(y_true, p),
    }
    return {name: round(float(value), 6) for name, value in values.items()}


def _schema(pipeline: Pipeline, kinds: Mapping[str, FeatureKind], profiles: Mapping[str, ColumnProfile]) -> FeatureSchema:
    """Examples are what the fitted imputers fill in; categories are every one the encoder saw, those
    grouped as infrequent included (`categories_` keeps them all): each is a valid input. A boolean
    lists its (false, true) values as written in the file; a date its format and reference."""
    fitted: dict[str, FeatureSpec] = {}
    for name, transformer, columns in pipeline.named_steps["preprocess"].transformers_:
        if name == "numeric":
            medians = transformer.named_steps["impute"].statistics_
            for column, median in zip(columns, medians):
                fitted[column] = _numeric_spec(column, kinds[column], float(median), profiles.get(column))
        elif name == "categorical":
            modes = transformer.named_steps["impute"].statistics_
            categories = transformer.named_steps["encode"].categories_
            for column, mode, seen in zip(columns, modes, categories):
                fitted[column] = FeatureSpec(column, FeatureKind.CATEGORY, str(mode), tuple(sorted(str(c) for c in seen)))
    return FeatureSchema(tuple(fitted[column] for column in kinds))


def _numeric_spec(column: str, kind: FeatureKind, median: float, profile: ColumnProfile | None) -> FeatureSpec:
    if kind is FeatureKind.BOOLEAN and profile is not None:
        return FeatureSpec(column, kind, bool(median >= 0.5), tuple(profile.boolean_values or ()))
    if kind is FeatureKind.DATE and profile is not None:
        date_format = profile.date_format or "%Y-%m-%d"
        example = (reference_moment(profile) - timedelta(days=round(median))).strftime(date_format)
        return FeatureSpec(column, kind, example, (), date_format, profile.reference)
    return FeatureSpec(column, FeatureKind.NUMBER, median)


def probe_rows(frame: pd.DataFrame, kinds: Mapping[str, FeatureKind]) -> list[dict[str, FeatureValue]]:
    """Rows as the model receives them after `FeatureSchema.check` and `encode`: float, str or None."""
    rows: list[dict[str, FeatureValue]] = []
    for record in frame.to_dict(orient="records"):
        row: dict[str, FeatureValue] = {}
        for column, kind in kinds.items():
            value = record[column]
            if isinstance(value, float) and math.isnan(value):
                row[column] = None
            else:
                row[column] = float(value) if kind.encoded_as_number else str(value)
        rows.append(row)
    return rows
