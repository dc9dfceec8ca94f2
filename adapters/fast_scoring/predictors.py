"""Compiled estimators: one row in plain Python (or small NumPy steps) over parameters extracted at
load time, many rows through the encoded matrix. Predictors hold only immutable state, so scoring
is thread-safe."""

from __future__ import annotations

import bisect
import math
from typing import Any, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np
from scipy.special import expit, logit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

from adapters.fast_scoring.encoding import NotCompilable, RowEncoder
from adapters.fast_scoring.kernels import SvcPredictor
from adapters.fast_scoring.trees import TREE_MODELS, TreePredictor, sigmoid

_BOOSTED = (GradientBoostingClassifier,)


class Predictor(Protocol):
    serving_path: str

    def one(self, features: Mapping[str, Any]) -> float: ...

    def many(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray: ...


@runtime_checkable
class CompiledPredictor(Predictor, Protocol):
    """A predictor over the RowEncoder's matrix: it also scores a matrix already encoded."""

    def of_encoded(self, x: np.ndarray) -> np.ndarray:
        """`many` of the rows whose RowEncoder.matrix is `x`."""
        ...


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
        return self.of_encoded(self._encoder.matrix(rows))

    def of_encoded(self, x: np.ndarray) -> np.ndarray:
        return expit(x @ self._coef + self._intercept)


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
        return self.of_encoded(self._encoder.matrix(rows))

    def of_encoded(self, x: np.ndarray) -> np.ndarray:
        return self._estimator.predict_proba(x)[:, self._column]


class CalibratedPredictor:
    """A compiled model behind a fitted calibrator (`CalibratedClassifierCV` around a `FrozenEstimator`):
    the calibrator's input is the model's decision function where it has one (for logistic regression
    and gradient boosting the log-odds, recovered as logit(p) of the compiled probability), else its
    probability; then Platt's expit(-(a*f + b)) or the isotonic step function (np.interp, clipped)."""

    def __init__(self, base: CompiledPredictor, calibrated: CalibratedClassifierCV) -> None:
        positive_column(calibrated)
        if len(calibrated.calibrated_classifiers_) != 1:
            raise NotCompilable("calibration with several folds")
        fold = calibrated.calibrated_classifiers_[0]
        frozen = fold.estimator
        if not isinstance(frozen, FrozenEstimator) or len(fold.calibrators) != 1:
            raise NotCompilable("calibration not around one frozen estimator")
        inner = frozen.estimator
        self._uses_decision = hasattr(inner, "decision_function")
        if self._uses_decision and not isinstance(inner, (LogisticRegression, *_BOOSTED)):
            raise NotCompilable(f"{type(inner).__name__}'s decision function is not the log-odds of its probability")
        calibrator = fold.calibrators[0]
        if isinstance(calibrator, IsotonicRegression):
            self._x = np.asarray(calibrator.X_thresholds_, dtype=np.float64)
            self._y = np.asarray(calibrator.y_thresholds_, dtype=np.float64)
            self._x_list, self._y_list = self._x.tolist(), self._y.tolist()
            self._method = "isotonic"
        elif hasattr(calibrator, "a_") and hasattr(calibrator, "b_"):
            self._a, self._b = float(calibrator.a_), float(calibrator.b_)
            self._method = "sigmoid"
        else:
            raise NotCompilable(f"calibrator {type(calibrator).__name__}")
        self._base = base
        self.serving_path = f"{base.serving_path}+{self._method}"

    @property
    def base(self) -> CompiledPredictor:
        """The compiled model the calibrator reads."""
        return self._base

    def calibrate(self, p: np.ndarray) -> np.ndarray:
        """The calibrated probabilities of the base model's."""
        f = logit(p) if self._uses_decision else p
        if self._method == "sigmoid":
            out = expit(-(self._a * f + self._b))
        else:
            out = np.interp(f, self._x, self._y)
        return np.clip(out, 0.0, 1.0)

    def one(self, features: Mapping[str, Any]) -> float:
        """Plain Python on one number: a NumPy call would cost more than the model."""
        p = self._base.one(features)
        if self._uses_decision:
            f = math.inf if p >= 1.0 else -math.inf if p <= 0.0 else math.log(p / (1.0 - p))
        else:
            f = p
        if self._method == "sigmoid":
            out = sigmoid(-(self._a * f + self._b)) if math.isfinite(f) else (0.0 if (self._a * f) > 0 else 1.0)
        else:
            x, y = self._x_list, self._y_list
            if f <= x[0]:
                out = y[0]
            elif f >= x[-1]:
                out = y[-1]
            else:
                i = bisect.bisect_right(x, f)
                x0, x1, y0, y1 = x[i - 1], x[i], y[i - 1], y[i]
                out = y0 + (f - x0) * (y1 - y0) / (x1 - x0) if x1 > x0 else y1
        return min(1.0, max(0.0, out))

    def many(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return self.calibrate(np.asarray(self._base.many(rows), dtype=np.float64))

    def of_encoded(self, x: np.ndarray) -> np.ndarray:
        return self.calibrate(np.asarray(self._base.of_encoded(x), dtype=np.float64))


def compile_predictor(encoder: RowEncoder, estimator: Any, timing_rows: Sequence[Mapping[str, Any]]) -> CompiledPredictor:
    """The technique for the estimator's type; `timing_rows` let tree models pick their faster walker."""
    if isinstance(estimator, CalibratedClassifierCV) and isinstance(estimator.estimator, FrozenEstimator):
        inner = estimator.estimator.estimator
        if isinstance(inner, SVC):  # its calibrator reads the SVC's decision function: the kernel path computes it
            positive_column(estimator)
            try:
                return SvcPredictor(encoder, estimator)
            except NotCompilable:
                return EncodedPredictor(encoder, estimator)
        return CalibratedPredictor(compile_predictor(encoder, inner, timing_rows), estimator)
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
