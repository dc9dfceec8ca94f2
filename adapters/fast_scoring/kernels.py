"""Sigmoid- or isotonic-calibrated support vector classifiers compiled to NumPy.

CalibratedClassifierCV averages, over its folds, expit(-(a * f(x) + b)) (or the fold's isotonic step function of f(x)) with
f(x) = dual_coef · K(support_vectors, x) + intercept. Every fold's support vectors are stacked in
one matrix so one row costs one matrix-vector product, whatever the number of folds.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.svm import SVC

from adapters.fast_scoring.encoding import NotCompilable, RowEncoder

CHUNK_ROWS = 256
"""Rows per kernel block in `many`: bounds the rows x support-vectors matrix to a few MB per fold."""


class SvcPredictor:
    serving_path = "numpy-svc"

    def __init__(self, encoder: RowEncoder, estimator: CalibratedClassifierCV) -> None:
        folds = [_fold(c) for c in estimator.calibrated_classifiers_]
        kernels = {fold["kernel"] for fold in folds}
        if len(kernels) != 1 or not folds:
            raise NotCompilable("calibrated folds with different kernels")
        self._kernel = kernels.pop()
        self._encoder = encoder
        self._vectors = np.vstack([f["vectors"] for f in folds])
        if self._vectors.shape[1] != encoder.width:
            raise NotCompilable("support vectors do not match the encoded columns")
        self._squared = np.einsum("ij,ij->i", self._vectors, self._vectors)
        self._gamma = np.concatenate([np.full(len(f["vectors"]), f["gamma"]) for f in folds])
        self._dual = np.concatenate([f["dual"] for f in folds])
        self._starts = np.cumsum([0] + [len(f["vectors"]) for f in folds[:-1]])
        self._intercept = np.array([f["intercept"] for f in folds])
        self._a = np.array([f["a"] for f in folds])
        self._b = np.array([f["b"] for f in folds])
        methods = {f["method"] for f in folds}
        if len(methods) != 1:
            raise NotCompilable("calibrated folds with different methods")
        self._isotonic = [(f["x"], f["y"]) for f in folds] if methods == {"isotonic"} else None
        self._coef0 = folds[0]["coef0"]
        self._degree = folds[0]["degree"]
        if len({(f["coef0"], f["degree"]) for f in folds}) != 1:
            raise NotCompilable("calibrated folds with different kernel parameters")

    def one(self, features: Mapping[str, Any]) -> float:
        return float(self._probabilities(np.array([self._encoder.row(features)]))[0])

    def many(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return self.of_encoded(self._encoder.matrix(rows))

    def of_encoded(self, x: np.ndarray) -> np.ndarray:
        return np.concatenate([self._probabilities(x[i : i + CHUNK_ROWS]) for i in range(0, len(x), CHUNK_ROWS)])

    def _probabilities(self, x: np.ndarray) -> np.ndarray:
        dot = x @ self._vectors.T
        if self._kernel == "rbf":
            distance = np.maximum(np.einsum("ij,ij->i", x, x)[:, None] + self._squared - 2.0 * dot, 0.0)
            k = np.exp(-self._gamma * distance)
        elif self._kernel == "linear":
            k = dot
        elif self._kernel == "poly":
            k = (self._gamma * dot + self._coef0) ** self._degree
        else:
            k = np.tanh(self._gamma * dot + self._coef0)
        decision = np.add.reduceat(k * self._dual, self._starts, axis=1) + self._intercept
        if self._isotonic is None:
            return expit(-(self._a * decision + self._b)).mean(axis=1)
        calibrated = np.column_stack([np.interp(decision[:, i], x, y) for i, (x, y) in enumerate(self._isotonic)])
        return calibrated.mean(axis=1)


def _fold(calibrated: Any) -> dict[str, Any]:
    svc = calibrated.estimator
    if isinstance(svc, FrozenEstimator):  # one SVC fitted on every training row, calibrated on out-of-fold scores
        svc = svc.estimator
    calibrators: Sequence[Any] = getattr(calibrated, "calibrators", ())
    method = getattr(calibrated, "method", None)
    if not isinstance(svc, SVC) or method not in ("sigmoid", "isotonic") or len(calibrators) != 1:
        raise NotCompilable("not a sigmoid- or isotonic-calibrated binary SVC")
    if [int(c) for c in svc.classes_] != [0, 1] or not hasattr(svc, "_gamma") or callable(svc.kernel):
        raise NotCompilable("SVC with other classes or a custom kernel")
    if svc.kernel not in ("rbf", "linear", "poly", "sigmoid"):
        raise NotCompilable(f"SVC kernel {svc.kernel!r}")
    return {
        "kernel": svc.kernel,
        "vectors": np.asarray(svc.support_vectors_, dtype=np.float64),
        "dual": np.asarray(svc.dual_coef_[0], dtype=np.float64),
        "intercept": float(svc.intercept_[0]),
        "gamma": float(svc._gamma),
        "coef0": float(svc.coef0),
        "degree": int(svc.degree),
        "method": method,
        "a": float(getattr(calibrators[0], "a_", 0.0)),
        "b": float(getattr(calibrators[0], "b_", 0.0)),
        "x": np.asarray(getattr(calibrators[0], "X_thresholds_", ()), dtype=np.float64),
        "y": np.asarray(getattr(calibrators[0], "y_thresholds_", ()), dtype=np.float64),
    }
