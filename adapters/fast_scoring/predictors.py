"""Compiled estimators: one row in plain Python (or small NumPy steps) over parameters extracted at
load time, many rows through the encoded matrix. Predictors hold only immutable state, so scoring
is thread-safe."""

from __future__ import annotations

from typing import Any, Mapping, Protocol, Sequence

import numpy as np
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression

from adapters.fast_scoring.encoding import NotCompilable, RowEncoder
from adapters.fast_scoring.kernels import SvcPredictor
from adapters.fast_scoring.trees import TREE_MODELS, TreePredictor, sigmoid


class Predictor(Protocol):
    serving_path: str

    def one(self, features: Mapping[str, Any]) -> float: ...

    def many(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray: ...


def positive_column(estimator: Any) -> int:
    """Index of class 1 among `predict_proba`'s columns; NotCompilable unless the classes are 0 and 1."""
    classes = [int(c) for c in estimator.classes_]
    if classes != [0, 1]:
        raise NotCompilable(f"expected classes [0, 1], got {classes}")
    return 1


class LinearPredictor:
    """Logistic regression folded into the encoding: each category looks up its own weight (an unseen
    one, its feature's infrequent column's weight or 0), so one row costs a dozen multiply-adds in
    Python (faster than any NumPy call at this size)."""

    serving_path = "numpy-linear"

    def __init__(self, encoder: RowEncoder, estimator: LogisticRegression) -> None:
        positive_column(estimator)
        coef = np.asarray(estimator.coef_, dtype=np.float64)
        if coef.shape != (1, encoder.width):
            raise NotCompilable("logistic regression is not binary over the encoded columns")
        weights = coef[0].tolist()
        self._intercept = float(estimator.intercept_[0])
        self._numeric = tuple((s.name, s.fill, s.mean, s.scale, weights[s.position]) for s in encoder.numeric)
        self._categorical = tuple(
            (s.name, {c: weights[p] for c, p in s.positions.items()}, 0.0 if s.unknown is None else weights[s.unknown])
            for s in encoder.categorical
        )
        self._encoder = encoder
        self._coef = coef[0]

    @property
    def coefficients(self) -> np.ndarray:
        return self._coef

    def one(self, features: Mapping[str, Any]) -> float:
        z = self._intercept
        for name, fill, mean, scale, weight in self._numeric:
            value = features[name]
            z += weight * (((fill if value is None else value) - mean) / scale)
        for name, weights, unknown in self._categorical:
            z += weights.get(features[name], unknown)
        return sigmoid(z)

    def many(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return expit(self._encoder.matrix(rows) @ self._coef + self._intercept)


class EncodedPredictor:
    """Any other estimator (k-NN, an SVC not compiled): its own predict_proba, fed the encoded vector, not a DataFrame."""

    serving_path = "encoded-sklearn"

    def __init__(self, encoder: RowEncoder, estimator: Any) -> None:
        if not hasattr(estimator, "predict_proba"):
            raise NotCompilable(f"{type(estimator).__name__} has no predict_proba")
        self._column = positive_column(estimator)
        self._encoder = encoder
        self._estimator = estimator

    def one(self, features: Mapping[str, Any]) -> float:
        x = np.array(self._encoder.row(features), dtype=np.float64).reshape(1, -1)
        return float(self._estimator.predict_proba(x)[0, self._column])

    def many(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return self._estimator.predict_proba(self._encoder.matrix(rows))[:, self._column]


def compile_predictor(encoder: RowEncoder, estimator: Any, timing_rows: Sequence[Mapping[str, Any]]) -> Predictor:
    """The technique for the estimator's type; `timing_rows` let tree models pick their faster walker."""
    if isinstance(estimator, LogisticRegression):
        return LinearPredictor(encoder, estimator)
    if isinstance(estimator, TREE_MODELS):
        return TreePredictor(encoder, estimator, positive_column(estimator), timing_rows)
    if isinstance(estimator, CalibratedClassifierCV):
        positive_column(estimator)
        try:
            return SvcPredictor(encoder, estimator)
        except NotCompilable:
            pass
    return EncodedPredictor(encoder, estimator)
