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
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable, Mapping, Sequence, TypeVar

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    log_loss,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from adapters import frames
from adapters.fast_scoring import SklearnChurnModel
from adapters.native_threads import single_native_thread
from churn.columns import ColumnKind, nfc_key
from adapters.fast_scoring.explain import TRAINING_MEANS
from churn.decision import is_churn
from churn.drift import DriftReference
from churn.errors import TrainingFailedError
from churn.evaluation import (
    CV_METRICS,
    MAX_CURVE_POINTS,
    RELIABILITY_BINS,
    CrossValidation,
    CurvePoint,
    Evaluation,
    HoldoutSet,
    ReliabilityBin,
)
from churn.datasets import Dataset
from churn.features import FeatureKind, FeatureSchema, FeatureSpec, FeatureValue
from churn.profiles import ColumnProfile, reference_moment
from churn.model_types import ModelType
from churn.ports import ChurnModel, Trainer, TrainedModel
from churn.customers import parse_value
from churn.training_options import HOLDOUT_FRACTION, MIN_HOLDOUT_PER_CLASS, NEEDS_CALIBRATION, Calibration, TrainingOptions

PROBE_ROWS = 200
DRIFT_REFERENCE_ROWS = 200_000
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
CV_MAX_ROWS = 200_000
"""Training rows above which cross-validation is skipped (CHURN_CV_MAX_ROWS): k more fits of a large
set would hold the training queue for minutes; the hold-out alone is then the evidence."""
CALIBRATION_FRACTION = 0.2
"""Share of the training split the calibrator is fitted on (the model on the rest): never the hold-out."""
PERMUTATION_ROWS = 200
PERMUTATION_REPEATS = 2

_T = TypeVar("_T")


class SklearnTrainer(Trainer):
    """Fits one pipeline per call; deterministic for a given seed. Safe to share between threads.
    With `draw_reports`, each training also draws its evaluation charts (TrainedModel.reports) for a
    registry that keeps them: about a second of CPU, so off where nothing would keep them."""

    def __init__(
        self, seed: int = 42, test_size: float = HOLDOUT_FRACTION, cv_max_rows: int = CV_MAX_ROWS, draw_reports: bool = False
    ) -> None:
        if not 0.0 < test_size < 1.0:
            raise ValueError("test_size must be between 0 and 1")
        self._seed = seed
        self._test_size = test_size
        self._cv_max_rows = cv_max_rows
        self._draw_reports = draw_reports
        self._cv_threads = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)

    def train(
        self,
        dataset: Dataset,
        content: bytes,
        model_type: ModelType,
        hyperparameters: Mapping[str, Any],
        columns: Sequence[str] | None = None,
        options: TrainingOptions = TrainingOptions(),
    ) -> TrainedModel:
        with single_native_thread():
            return self._train(dataset, content, model_type, hyperparameters, columns, options)

    def _train(
        self,
        dataset: Dataset,
        content: bytes,
        model_type: ModelType,
        hyperparameters: Mapping[str, Any],
        columns: Sequence[str] | None,
        options: TrainingOptions,
    ) -> TrainedModel:
        params = model_type.resolve(hyperparameters)
        calibration = options.calibration_for(model_type.name)
        frame, kinds, target, profiles = self._table(dataset, content, columns)
        x_train, x_test, y_train, y_test = self._split(frame, target)
        _refuse_small_holdout(y_test)
        _refuse_unusable_columns(x_train, kinds, check_identifiers=not profiles)
        recipe = _Recipe(kinds, model_type.name, params, calibration, self._seed)
        fitted = self._fit(recipe, x_train, y_train, options.cv_folds, dataset.name)
        pipeline, cross_validation, out_of_fold = fitted.pipeline, fitted.cross_validation, fitted.out_of_fold
        # the encoded training means: the baseline of exact linear contributions (adapters/fast_scoring/explain.py)
        setattr(pipeline, TRAINING_MEANS, fitted.training_means)
        p_test = pipeline.predict_proba(x_test)[:, 1]
        rule = options.threshold
        if not rule.needs_data:
            threshold, source = rule.value, "fixed"
        elif out_of_fold is not None:
            threshold, source = rule.choose(y_train.tolist(), out_of_fold.tolist()), "cross-validation predictions on the training split"
        else:
            threshold, source = rule.choose(y_test.tolist(), p_test.tolist()), "hold-out (cross-validation was skipped)"
        threshold = round(float(threshold), 6)
        metrics = holdout_metrics(y_test, p_test, threshold)
        importances, kind = feature_importances(pipeline, x_test, y_test, kinds, self._seed)
        evaluation = Evaluation(
            threshold_rule=rule.to_json(),
            threshold_source=source,
            calibration=calibration.value,
            cross_validation=cross_validation,
            reliability=reliability(y_test, p_test),
            roc=roc_points(y_test, p_test),
            pr=pr_points(y_test, p_test),
            confusion=confusion_at(y_test, p_test, threshold),
            importances=importances,
            importance_kind=kind,
            holdout_rows=len(y_test),
            cv_seconds=round(fitted.cv_seconds, 6),
        )
        schema = _schema(pipeline, kinds, profiles)
        probes = probe_rows(x_test.iloc[:PROBE_ROWS], kinds)
        model = SklearnChurnModel.from_pipeline(pipeline, schema, probes, threshold)
        return TrainedModel(
            model=model, metrics=metrics, training_seconds=round(fitted.seconds, 6), evaluation=evaluation,
            drift_reference=self._drift_reference(x_train, kinds, p_test),
            reports=self._reports(evaluation, metrics, threshold, f"{model_type.name} on {dataset.name}"),
        )

    def _reports(self, evaluation: Evaluation, metrics: Mapping[str, float], threshold: float, title: str) -> dict[str, bytes]:
        if not self._draw_reports:
            return {}
        from adapters.evaluation_plots import render_evaluation  # matplotlib: only where charts are drawn

        return render_evaluation(evaluation, metrics, threshold, title)

    def _drift_reference(self, x_train: pd.DataFrame, kinds: Mapping[str, FeatureKind], p_test: np.ndarray) -> DriftReference:
        """The training split's feature bins (a fixed-seed sample of DRIFT_REFERENCE_ROWS above that) and
        the hold-out probabilities' bins (churn.drift)."""
        sample = x_train.sample(DRIFT_REFERENCE_ROWS, random_state=self._seed) if len(x_train) > DRIFT_REFERENCE_ROWS else x_train
        columns = {c: sample[c].tolist() for c in kinds}  # NaN reads as missing there, like None
        return DriftReference.build({c: k.value for c, k in kinds.items()}, columns, p_test.tolist())

    def holdout(self, dataset: Dataset, content: bytes) -> HoldoutSet:
        """Every feature column of the data set, encoded as the models take them."""
        frame, kinds, target, _ = self._table(dataset, content, None)
        _, x_test, _, y_test = self._split(frame, target)
        return HoldoutSet(tuple(kinds), probe_rows(x_test, kinds), [int(v) for v in y_test], {c: k.value for c, k in kinds.items()})

    def evaluate(self, model: ChurnModel, holdout: HoldoutSet) -> dict[str, float]:
        with single_native_thread():
            p = np.clip(np.asarray(model.score_many(holdout.rows), dtype=np.float64), 0.0, 1.0)
        return holdout_metrics(np.asarray(holdout.labels, dtype=np.int64), p, model.threshold)

    def _table(
        self, dataset: Dataset, content: bytes, columns: Sequence[str] | None
    ) -> tuple[pd.DataFrame, dict[str, FeatureKind], np.ndarray, dict[str, ColumnProfile]]:
        """The chosen columns (default: every feature) typed by their profile, or as plain CSV for data
        sets stored before profiles; the target as 0/1."""
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
        return frame, kinds, target, profiles

    def _fit(self, recipe: "_Recipe", x: pd.DataFrame, y: np.ndarray, folds: int, name: str) -> "_Fitted":
        """The version's pipeline and the cross-validation evidence on it.

        With cross-validation, the k fold models and the version's own model are fitted side by side
        (threads, one per core: scikit-learn's fitting loops release the GIL; fixed seeds, so the result
        does not depend on the order; the native libraries at one thread, `single_native_thread`).
        The fold models read the training split coded once as numbers (`_coded`), which their
        preprocessing encodes exactly as the version's pipeline encodes the text, at a fraction of
        the cost: that preprocessing was most of a fold's time for the quick types. A calibrated type's calibrator is then fitted on the folds'
        out-of-fold scores of the whole training split (scikit-learn's `ensemble=False` calibration):
        the model learns from every training row and the calibrator from as many rows no model saw, at
        the cost of k + 1 fits in all, against (k + 1) x 6 for calibrating inside every fold. Without
        cross-validation (off, above CHURN_CV_MAX_ROWS, too few of a class) the calibrator takes a
        slice of the rows instead (`_Recipe.fit`)."""
        k, skipped = self._folds(x, y, folds)
        if skipped:
            started = time.perf_counter()
            pipeline = recipe.fit(x, y, name)
            seconds = time.perf_counter() - started
            means = np.asarray(pipeline[:-1].transform(x), dtype=np.float64).mean(axis=0)
            return _Fitted(pipeline, seconds, CrossValidation(0, skipped=skipped), None, 0.0, means)
        splits = list(StratifiedKFold(k, shuffle=True, random_state=self._seed).split(x, y))
        started = time.perf_counter()
        coded = _coded(x, recipe.kinds)
        threads = min(k + 1, self._cv_threads)
        with ThreadPoolExecutor(max_workers=threads) as pool:
            final = pool.submit(_timed, recipe.fit_model, x, y, name)
            fold_scores = list(pool.map(lambda rows: recipe.score(recipe.fit_fold(coded[rows[0]], y[rows[0]], name), coded[rows[1]]), splits))
            (model, encoded), seconds = final.result()
        scores = np.empty(len(y), dtype=np.float64)
        for (_, test_rows), fold in zip(splits, fold_scores, strict=True):
            scores[test_rows] = fold
        pipeline, out_of_fold = recipe.calibrate(model, x, y, scores, splits)
        return _Fitted(
            pipeline, seconds, _cross_validation(y, out_of_fold, splits), out_of_fold, time.perf_counter() - started, encoded.mean(axis=0)
        )

    def _folds(self, x: pd.DataFrame, y: np.ndarray, folds: int) -> tuple[int, str | None]:
        """How many folds, or why there are none."""
        if folds == 0:
            return 0, "cv_folds was 0"
        if len(x) > self._cv_max_rows:
            return 0, f"{len(x)} training rows is above CHURN_CV_MAX_ROWS ({self._cv_max_rows})"
        k = min(folds, int(y.sum()), int(len(y) - y.sum()))
        if k < 2:
            return 0, "too few customers of one class for two folds"
        return k, None

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


@dataclass(frozen=True, slots=True)
class _Fitted:
    pipeline: Pipeline
    seconds: float
    """The version's own fit."""
    cross_validation: CrossValidation
    out_of_fold: np.ndarray | None
    """The training split's probabilities from models that did not see them (for choosing a threshold)."""
    cv_seconds: float
    """Wall seconds of the folds (the version's own fit ran beside them)."""
    training_means: np.ndarray
    """The mean of each encoded column over the training split."""


def _timed(fit: Any, *args: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    return fit(*args), time.perf_counter() - started


def _cross_validation(y: np.ndarray, p: np.ndarray, splits: Sequence[tuple[np.ndarray, np.ndarray]]) -> CrossValidation:
    """Mean and sample standard deviation of each metric over the folds' out-of-fold probabilities."""
    scores: dict[str, list[float]] = {metric: [] for metric in CV_METRICS}
    for _, test_rows in splits:
        measured = probability_metrics(y[test_rows], p[test_rows])
        for metric in CV_METRICS:
            scores[metric].append(measured[metric])
    mean = {m: round(float(np.mean(v)), 6) for m, v in scores.items()}
    std = {m: round(float(np.std(v, ddof=1)), 6) for m, v in scores.items()}
    return CrossValidation(len(splits), mean, std)


class _Recipe:
    """How one model is fitted: preprocessing + estimator, then its calibrator when asked for.

    `fit_model`, `score` and `calibrate` are the cross-validated way (SklearnTrainer._fit); `fit` is the
    way without folds: the model is fitted on most rows, then only the calibrator on a slice it did not
    see (`FrozenEstimator`), and an SVC calibrates inside `CalibratedClassifierCV`'s own folds."""

    def __init__(self, kinds: Mapping[str, FeatureKind], name: str, params: Mapping[str, Any], calibration: Calibration, seed: int) -> None:
        self.kinds, self.name, self.params, self.calibration, self.seed = kinds, name, params, calibration, seed

    def fit(self, x: pd.DataFrame, y: np.ndarray, dataset: str) -> Pipeline:
        return self._fitting(dataset, lambda: self._fit(x, y))

    def fit_model(self, x: pd.DataFrame, y: np.ndarray, dataset: str) -> tuple[Pipeline, np.ndarray]:
        """Preprocessing and the bare estimator (an SVC without its calibrator), and the training rows
        as that preprocessing encoded them (what `Pipeline.fit` computes and drops)."""

        def fit() -> tuple[Pipeline, np.ndarray]:
            preprocess = _preprocessor(self.kinds)
            encoded = np.asarray(preprocess.fit_transform(x, y), dtype=np.float64)
            model = base_estimator(self.name, self.params, self.seed).fit(encoded, y)
            return Pipeline([("preprocess", preprocess), ("model", model)]), encoded

        return self._fitting(dataset, fit)

    def fit_fold(self, coded: np.ndarray, y: np.ndarray, dataset: str) -> Pipeline:
        """A fold's model on rows coded by `_coded`: the same preprocessing and estimator as `fit_model`."""
        model = base_estimator(self.name, self.params, self.seed)
        return self._fitting(dataset, lambda: Pipeline([("preprocess", _preprocessor(self.kinds, coded=True)), ("model", model)]).fit(coded, y))

    def _fitting(self, dataset: str, fit: Callable[[], _T]) -> _T:
        """`fit()`, its numerical and memory failures as TrainingFailedError."""
        try:
            return fit()
        except (ValueError, ArithmeticError, MemoryError) as exc:
            raise TrainingFailedError(f"{self.name} could not be fitted on {dataset!r}: {exc}") from None

    def score(self, pipeline: Pipeline, x: pd.DataFrame | np.ndarray) -> np.ndarray:
        """The probability of a model left uncalibrated; else what `CalibratedClassifierCV` feeds its
        calibrator: the decision function where the model has one, its probability otherwise."""
        if self.calibration is not Calibration.NONE and hasattr(pipeline, "decision_function"):
            return np.asarray(pipeline.decision_function(x), dtype=np.float64)
        return np.asarray(pipeline.predict_proba(x)[:, 1], dtype=np.float64)

    def calibrate(
        self, pipeline: Pipeline, x: pd.DataFrame, y: np.ndarray, scores: np.ndarray, splits: Sequence[tuple[np.ndarray, np.ndarray]]
    ) -> tuple[Pipeline, np.ndarray]:
        """The version's pipeline with its calibrator fitted on the out-of-fold `scores`, and the
        out-of-fold probabilities: each fold's scores through a calibrator fitted on the other folds'
        (so no probability was calibrated on its own label)."""
        if self.calibration is Calibration.NONE:
            return pipeline, scores
        preprocess, model = pipeline.named_steps["preprocess"], pipeline.named_steps["model"]
        calibrated = CalibratedClassifierCV(FrozenEstimator(model), method=self.calibration.value)
        # scikit-learn builds its calibrated classifier from rows only; a few of each class give it its
        # shape, and its calibrator is then refitted on the scores of the whole training split
        few = np.concatenate([np.flatnonzero(y == 0)[:5], np.flatnonzero(y == 1)[:5]])
        calibrated.fit(preprocess.transform(x.iloc[few]), y[few])
        calibrator = calibrated.calibrated_classifiers_[0].calibrators[0]
        out_of_fold = np.empty_like(scores)
        for fit_rows, test_rows in splits:
            out_of_fold[test_rows] = clone(calibrator).fit(scores[fit_rows], y[fit_rows]).predict(scores[test_rows])
        calibrator.fit(scores, y)
        return Pipeline([("preprocess", preprocess), ("model", calibrated)]), np.clip(out_of_fold, 0.0, 1.0)

    def _fit(self, x: pd.DataFrame, y: np.ndarray) -> Pipeline:
        model = estimator(self.name, self.params, self.seed, self.calibration)
        if self.calibration is Calibration.NONE or self.name in NEEDS_CALIBRATION:
            return Pipeline([("preprocess", _preprocessor(self.kinds)), ("model", model)]).fit(x, y)
        x_fit, x_calibrate, y_fit, y_calibrate = train_test_split(
            x, y, test_size=CALIBRATION_FRACTION, stratify=y, random_state=self.seed
        )
        base = Pipeline([("preprocess", _preprocessor(self.kinds)), ("model", model)]).fit(x_fit, y_fit)
        preprocess = base.named_steps["preprocess"]
        calibrated = CalibratedClassifierCV(FrozenEstimator(base.named_steps["model"]), method=self.calibration.value)
        calibrated.fit(preprocess.transform(x_calibrate), y_calibrate)
        return Pipeline([("preprocess", preprocess), ("model", calibrated)])


def _refuse_small_holdout(y_test: np.ndarray) -> None:
    churners = int(y_test.sum())
    others = int(len(y_test) - churners)
    if min(churners, others) < MIN_HOLDOUT_PER_CLASS:
        raise TrainingFailedError(
            f"the hold-out holds {churners} churners and {others} other customers; at least {MIN_HOLDOUT_PER_CLASS} "
            "of each are needed to measure the model: upload more rows"
        )


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


def _preprocessor(kinds: Mapping[str, FeatureKind], coded: bool = False) -> ColumnTransformer:
    """The columns by name, or by position in `kinds`' order for rows coded by `_coded`."""
    column: Callable[[int, str], int | str] = (lambda i, c: i) if coded else (lambda i, c: c)
    numeric = [column(i, c) for i, (c, k) in enumerate(kinds.items()) if k.encoded_as_number]
    categorical = [column(i, c) for i, (c, k) in enumerate(kinds.items()) if k is FeatureKind.CATEGORY]
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


def _coded(x: pd.DataFrame, kinds: Mapping[str, FeatureKind]) -> np.ndarray:
    """The rows as one float matrix in `kinds`' order: numbers as they are, each text value as its rank
    among the column's sorted distinct values, NaN where missing. Ranks keep the text's order, so the
    most frequent value (ties to the smallest), the sorted categories and the infrequent group that
    `_preprocessor` learns from them are the text's own: its encoded rows equal the text pipeline's."""
    out = np.empty((len(x), len(kinds)), dtype=np.float64)
    for i, (c, kind) in enumerate(kinds.items()):
        if kind is FeatureKind.CATEGORY:
            codes, _ = pd.factorize(x[c], sort=True)
            out[:, i] = np.where(codes < 0, np.nan, codes)
        else:
            out[:, i] = x[c].to_numpy(dtype=np.float64)
    return out


def _one_hot() -> OneHotEncoder:
    """Rare and unseen categories share one column, so a high-cardinality column stays narrow (and the
    compiled scoring path reproduces the grouping)."""
    return OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=MAX_CATEGORIES_PER_COLUMN, sparse_output=False)


def estimator(name: str, params: Mapping[str, Any], seed: int, calibration: Calibration = Calibration.SIGMOID) -> ClassifierMixin:
    """The scikit-learn estimator for a catalogue type, from hyperparameters already resolved; an SVC
    inside the calibration (its own folds) that turns its scores into probabilities."""
    if name == "svc":
        method = Calibration.SIGMOID if calibration is Calibration.NONE else calibration
        return CalibratedClassifierCV(base_estimator(name, params, seed), method=method.value)
    return base_estimator(name, params, seed)


def base_estimator(name: str, params: Mapping[str, Any], seed: int) -> ClassifierMixin:
    """The bare estimator: an SVC without the calibration its scores need to be probabilities."""
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
        return SVC(C=params["C"], kernel=params["kernel"], gamma=params["gamma"], random_state=seed)
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


def probability_metrics(y_true: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Metrics of the probabilities themselves, threshold-free."""
    return {
        "roc_auc": float(roc_auc_score(y_true, p)),
        "pr_auc": float(average_precision_score(y_true, p)),
        "log_loss": float(log_loss(y_true, p, labels=[0, 1])),
        "brier": float(brier_score_loss(y_true, p)),
        "ece": expected_calibration_error(y_true, p),
    }


def holdout_metrics(y_true: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    """The port's metrics, rounded to 6 dp; decisions at the version's threshold."""
    predicted = is_churn(p, threshold).astype(np.int64)
    values = {
        **probability_metrics(y_true, p),
        "accuracy": accuracy_score(y_true, predicted),
        "precision": precision_score(y_true, predicted, zero_division=0),
        "recall": recall_score(y_true, predicted, zero_division=0),
        "f1": f1_score(y_true, predicted, zero_division=0),
    }
    return {name: round(float(value), 6) for name, value in values.items()}


def _bins(p: np.ndarray) -> np.ndarray:
    """Equal-width bins [0, 0.1), ..., [0.9, 1.0]."""
    return np.minimum((p * RELIABILITY_BINS).astype(np.int64), RELIABILITY_BINS - 1)


def expected_calibration_error(y_true: np.ndarray, p: np.ndarray) -> float:
    """Sum over the 10 equal-width bins of |mean probability - churn rate|, weighted by the bin's share of rows."""
    bins = _bins(p)
    total = 0.0
    for b in range(RELIABILITY_BINS):
        inside = bins == b
        if inside.any():
            total += abs(float(p[inside].mean()) - float(y_true[inside].mean())) * int(inside.sum())
    return total / len(p)


def reliability(y_true: np.ndarray, p: np.ndarray) -> tuple[ReliabilityBin, ...]:
    bins = _bins(p)
    out = []
    for b in range(RELIABILITY_BINS):
        inside = bins == b
        n = int(inside.sum())
        out.append(
            ReliabilityBin(
                round(b / RELIABILITY_BINS, 6),
                round((b + 1) / RELIABILITY_BINS, 6),
                n,
                round(float(p[inside].mean()), 6) if n else None,
                round(float(y_true[inside].mean()), 6) if n else None,
            )
        )
    return tuple(out)


def _thin(n: int) -> np.ndarray:
    """At most MAX_CURVE_POINTS indices out of n, evenly spread, first and last kept."""
    return np.unique(np.linspace(0, n - 1, min(n, MAX_CURVE_POINTS)).round().astype(np.int64))


def _threshold_value(t: float) -> float | None:
    return None if not math.isfinite(t) else round(float(min(max(t, 0.0), 1.0)), 6)


def roc_points(y_true: np.ndarray, p: np.ndarray) -> tuple[CurvePoint, ...]:
    fpr, tpr, thresholds = roc_curve(y_true, p)
    return tuple(CurvePoint(round(float(fpr[i]), 6), round(float(tpr[i]), 6), _threshold_value(thresholds[i])) for i in _thin(len(fpr)))


def pr_points(y_true: np.ndarray, p: np.ndarray) -> tuple[CurvePoint, ...]:
    precision, recall, thresholds = precision_recall_curve(y_true, p)
    return tuple(
        CurvePoint(round(float(recall[i]), 6), round(float(precision[i]), 6), _threshold_value(thresholds[i]) if i < len(thresholds) else None)
        for i in _thin(len(recall))
    )


def confusion_at(y_true: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, int]:
    tn, fp, fn, tp = confusion_matrix(y_true, is_churn(p, threshold).astype(np.int64), labels=[0, 1]).ravel()
    return {"true_negative": int(tn), "false_positive": int(fp), "false_negative": int(fn), "true_positive": int(tp)}


def feature_importances(
    pipeline: Pipeline, x_test: pd.DataFrame, y_test: np.ndarray, kinds: Mapping[str, FeatureKind], seed: int
) -> tuple[tuple[tuple[str, float], ...], str]:
    """Per input feature, largest first: the model's own (|coefficients| or impurity importances,
    summed over a feature's encoded columns) where it has them, else the mean drop in hold-out ROC AUC
    when the feature is shuffled (permutation importance, on at most PERMUTATION_ROWS rows)."""
    model = pipeline.named_steps["model"]
    base = model
    if isinstance(base, CalibratedClassifierCV) and len(base.calibrated_classifiers_) == 1:
        base = base.calibrated_classifiers_[0].estimator
    if isinstance(base, FrozenEstimator):
        base = base.estimator
    native = None
    if hasattr(base, "feature_importances_"):
        native, kind = np.asarray(base.feature_importances_, dtype=np.float64), "impurity importance (model-native)"
    elif hasattr(base, "coef_"):
        native, kind = np.abs(np.asarray(base.coef_, dtype=np.float64)[0]), "|coefficient| on scaled inputs (model-native)"
    if native is not None:
        owners = _encoded_owners(pipeline.named_steps["preprocess"])
        if len(owners) == len(native):
            totals: dict[str, float] = dict.fromkeys(kinds, 0.0)
            for owner, value in zip(owners, native, strict=True):
                totals[owner] += float(value)
            return _ranked(totals), kind
    return _permutation_importances(pipeline, x_test, y_test, kinds, seed)


def _permutation_importances(
    pipeline: Pipeline, x_test: pd.DataFrame, y_test: np.ndarray, kinds: Mapping[str, FeatureKind], seed: int
) -> tuple[tuple[tuple[str, float], ...], str]:
    """Shuffling a feature's encoded columns together equals shuffling the feature (the preprocessing
    works row by row), so the rows are encoded once, and the estimator scores every shuffled copy in
    one call (a k-NN's or an SVC's per-call cost is paid once, not per feature and repeat)."""
    rng = np.random.default_rng(seed)
    rows = min(len(x_test), PERMUTATION_ROWS)
    picked = rng.choice(len(x_test), size=rows, replace=False)
    encoded = np.asarray(pipeline.named_steps["preprocess"].transform(x_test.iloc[picked]), dtype=np.float64)
    y = y_test[picked]
    owners = np.array(_encoded_owners(pipeline.named_steps["preprocess"]), dtype=object)
    copies = [encoded]
    for name in kinds:
        columns = np.flatnonzero(owners == name)
        for _ in range(PERMUTATION_REPEATS):
            shuffled = encoded.copy()
            shuffled[:, columns] = encoded[rng.permutation(rows)][:, columns]
            copies.append(shuffled)
    p = pipeline.named_steps["model"].predict_proba(np.vstack(copies))[:, 1].reshape(len(copies), rows)
    baseline = roc_auc_score(y, p[0])
    totals: dict[str, float] = {}
    for i, name in enumerate(kinds):
        repeats = p[1 + i * PERMUTATION_REPEATS : 1 + (i + 1) * PERMUTATION_REPEATS]
        totals[name] = float(np.mean([baseline - roc_auc_score(y, shuffled) for shuffled in repeats]))
    return _ranked(totals), f"permutation importance (drop in hold-out ROC AUC, {rows} rows, {PERMUTATION_REPEATS} repeats)"


def _ranked(totals: Mapping[str, float]) -> tuple[tuple[str, float], ...]:
    return tuple(sorted(((name, round(value, 6)) for name, value in totals.items()), key=lambda item: -item[1]))


def _encoded_owners(preprocess: ColumnTransformer) -> list[str]:
    """The input feature behind each encoded column, in the preprocessor's output order."""
    owners: list[str] = []
    for name, transformer, columns in preprocess.transformers_:
        if name == "numeric":
            owners.extend(columns)
        elif name == "categorical":
            encode = transformer.named_steps["encode"]
            infrequent = getattr(encode, "infrequent_categories_", [None] * len(columns))
            for column, seen, rare in zip(columns, encode.categories_, infrequent, strict=True):
                width = len(seen) - (0 if rare is None else len(rare) - 1)
                owners.extend([column] * width)
    return owners


def _schema(pipeline: Pipeline, kinds: Mapping[str, FeatureKind], profiles: Mapping[str, ColumnProfile]) -> FeatureSchema:
    """Examples are what the fitted imputers fill in; categories are every one the encoder saw, those
    grouped as infrequent included (`categories_` keeps them all): each is a valid input. A boolean
    lists its (false, true) values as written in the file; a date its format and reference."""
    fitted: dict[str, FeatureSpec] = {}
    for name, transformer, columns in pipeline.named_steps["preprocess"].transformers_:
        if name == "numeric":
            medians = transformer.named_steps["impute"].statistics_
            for column, median in zip(columns, medians, strict=True):
                fitted[column] = _numeric_spec(column, kinds[column], float(median), profiles.get(column))
        elif name == "categorical":
            modes = transformer.named_steps["impute"].statistics_
            categories = transformer.named_steps["encode"].categories_
            for column, mode, seen in zip(columns, modes, categories, strict=True):
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
