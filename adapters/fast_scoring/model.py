"""The ChurnModel port on a fitted scikit-learn pipeline, served by a compiled fast path when it
matches scikit-learn on the probe rows, else by the pipeline itself."""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from functools import cache
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from threadpoolctl import ThreadpoolController

from adapters.fast_scoring.encoding import NotCompilable, RowEncoder
from adapters.fast_scoring.explain import (
    BaselineSubstitutionExplainer,
    LinearExplainer,
    TreePathExplainer,
    ranked,
    reason_lists,
    training_means,
    tree_explainer,
)
from adapters.fast_scoring.predictors import CalibratedPredictor, CompiledPredictor, LinearPredictor, Predictor, compile_predictor, positive_column
from adapters.fast_scoring.trees import TreePredictor
from churn.decision import DEFAULT_THRESHOLD
from churn.feature_batches import FeatureColumns
from churn.features import FeatureSchema, FeatureValue
from churn.ports import ChurnModel
from churn.prediction_batches import BatchScores
from churn.reasons import DEFAULT_TOP, Reasons

log = logging.getLogger(__name__)

PARITY_TOLERANCE = 1e-6
SMALL_BATCH = 16
"""Up to this many rows, `score_many` loops the one-row path: cheaper than building a matrix."""


def to_frame(rows: Sequence[Mapping[str, Any]], schema: FeatureSchema) -> pd.DataFrame:
    """The DataFrame the pipeline was fitted on: float64 numbers and object categories, NaN for None."""
    columns: dict[str, np.ndarray] = {}
    for spec in schema.features:
        values = [row[spec.name] for row in rows]
        if spec.kind.encoded_as_number:
            columns[spec.name] = np.array(values, dtype=np.float64)
        else:
            columns[spec.name] = np.array([np.nan if v is None else v for v in values], dtype=object)
    return pd.DataFrame(columns, index=range(len(rows)))


class PipelinePredictor:
    """scikit-learn itself: one DataFrame per call. The reference and the fallback."""

    serving_path = "sklearn"

    def __init__(self, pipeline: Pipeline, schema: FeatureSchema) -> None:
        self._pipeline = pipeline
        self._schema = schema
        self._column = positive_column(pipeline)

    def one(self, features: Mapping[str, Any]) -> float:
        return float(self.many([features])[0])

    def many(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return self._pipeline.predict_proba(to_frame(rows, self._schema))[:, self._column]


class SklearnChurnModel(ChurnModel):
    """A fitted pipeline with its schema. `serving_path` names what scores; `parity` is the compiled
    path's max |Δp| against `pipeline.predict_proba` on `probe_rows`, also when that figure got the
    compiled path rejected; None when nothing compiled, it crashed on the probe rows, or there were none.
    Build it with `from_pipeline`."""

    def __init__(
        self,
        pipeline: Pipeline,
        schema: FeatureSchema,
        probe_rows: Sequence[Mapping[str, FeatureValue]],
        predictor: Predictor,
        parity: float | None,
        encoder: RowEncoder | None = None,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        self.pipeline = pipeline
        self._threshold = float(threshold)
        self.probe_rows = [dict(row) for row in probe_rows]
        self._schema = schema
        self._predictor = predictor
        self._parity = parity
        self._one = predictor.one
        self._many = predictor.many
        self._explainer = _explainer(pipeline, schema, self.probe_rows, predictor, encoder)
        self._explain_one = self._explainer.one
        self._compiled = (encoder, predictor) if encoder is not None and isinstance(predictor, CompiledPredictor) else None
        self._leaf_scoring = _leaf_scoring(predictor, self._explainer)

    @classmethod
    def from_pipeline(
        cls,
        pipeline: Pipeline,
        schema: FeatureSchema,
        probe_rows: Sequence[Mapping[str, FeatureValue]],
        threshold: float = DEFAULT_THRESHOLD,
    ) -> "SklearnChurnModel":
        """Compile the fast path and keep it only if it is within PARITY_TOLERANCE of scikit-learn,
        one row at a time and vectorised, on every probe row."""
        reference = PipelinePredictor(pipeline, schema)
        try:
            encoder = RowEncoder.compile(pipeline.steps[0][1])
            compiled = compile_predictor(encoder, pipeline.steps[-1][1], probe_rows)
        except NotCompilable as exc:
            log.info("serving through scikit-learn: %s", exc)
            return cls(pipeline, schema, probe_rows, reference, None, threshold=threshold)
        parity = measure_parity(compiled, reference, probe_rows)
        if parity is None or parity > PARITY_TOLERANCE:
            log.warning("compiled %s path rejected: parity %s > %s", compiled.serving_path, parity, PARITY_TOLERANCE)
            return cls(pipeline, schema, probe_rows, reference, parity, threshold=threshold)
        return cls(pipeline, schema, probe_rows, compiled, parity, encoder, threshold=threshold)

    @property
    def schema(self) -> FeatureSchema:
        return self._schema

    @property
    def serving_path(self) -> str:
        return self._predictor.serving_path

    @property
    def parity(self) -> float | None:
        return self._parity

    @property
    def threshold(self) -> float:
        return self._threshold

    def score(self, features: Mapping[str, Any]) -> float:
        return self._one(features)

    @property
    def explanation_method(self) -> str:
        return self._explainer.method

    def explain(self, features: Mapping[str, Any]) -> dict[str, float]:
        return self._explain_one(features)

    def explain_many(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, float]]:
        if not rows:
            return []
        return self._explainer.many(rows)

    def reasons_many(self, rows: Sequence[Mapping[str, Any]], labels: Sequence[Mapping[str, Any]], top: int = DEFAULT_TOP) -> list[Reasons]:
        """Ranked with NumPy over the explainer's (rows x features) matrix (explain.ranked)."""
        if not rows:
            return []
        ranks = ranked(self._schema.names, self._explainer.matrix(rows), top)
        return [Reasons.of_ranked(up, down, label) for (up, down), label in zip(ranks, labels, strict=True)]

    def assess_many(self, columns: FeatureColumns, top: int = DEFAULT_TOP) -> BatchScores:
        """One encoding of the columns (RowEncoder.matrix_of_columns) for the probabilities and the
        contributions, where the fast path serves; through the rows otherwise, and for up to
        SMALL_BATCH rows, whose probabilities `score_many` takes from the one-row path."""
        n = len(columns)
        if not n:
            return BatchScores([], [])
        rows: list[Mapping[str, Any]] | None = None

        def encoded_rows() -> list[Mapping[str, Any]]:
            nonlocal rows
            if rows is None:
                rows = list(columns.encoded_rows())
            return rows

        with one_blas_thread():
            if self._compiled is not None and n > SMALL_BATCH:
                encoder, compiled = self._compiled
                x = encoder.matrix_of_columns(columns.names, columns.encoded, n)
                if self._leaf_scoring is not None:
                    scores, contributions = self._leaf_scoring(x)
                    probabilities = scores.tolist()
                else:
                    probabilities = compiled.of_encoded(x).tolist()
                    contributions = self._explainer.of_encoded(x, encoded_rows)
            else:
                probabilities = self.score_many(encoded_rows())
                contributions = self._explainer.matrix(encoded_rows())
        return BatchScores(probabilities, reason_lists(self._schema.names, columns.clean, contributions, top))

    def score_many(self, rows: Sequence[Mapping[str, Any]]) -> list[float]:
        if not rows:
            return []
        if len(rows) <= SMALL_BATCH:
            one = self._one
            return [one(row) for row in rows]
        return self._many(rows).tolist()


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS on one thread for the enclosed NumPy work: a batch's matrices (thousands of rows by tens of
    columns) are too small for OpenBLAS's threads, which spin while they wait and cost a third more
    CPU on a scoring run than they save. The limit is the process's, so overlapping callers take
    turns (_BLAS_TURNS) rather than restore each other's settings out of order."""
    with _BLAS_TURNS, _blas().limit(limits=1, user_api="blas"):
        yield


@cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


_BLAS_TURNS = threading.Lock()


def _explainer(pipeline: Pipeline, schema: FeatureSchema, probe_rows: Sequence[Mapping[str, Any]], predictor: Predictor, encoder: RowEncoder | None) -> Any:
    """Exact for the compiled linear and tree paths, baseline substitution for the rest (see explain.py).

    A calibrated model is explained through the model inside its calibrator (a random forest with its
    isotonic step, k-NN or boosting with Platt's sigmoid): reasons are a ranking of contributions, and
    calibration is a monotone map of that model's output, so the features that raise or lower the
    calibrated risk are those that raise or lower the model's; the contributions are in the inner
    model's units (probability for forests, log-odds for linear models and boosting), and exact there,
    instead of a baseline substitution costing one calibrated scoring per feature. Baseline substitution
    itself (k-NN, SVC) stays on the calibrated probability: a monotone map keeps its ranking anyway."""
    names = schema.names
    inner, estimator = predictor, pipeline.steps[-1][1]
    if isinstance(inner, CalibratedPredictor):
        inner, estimator = inner.base, estimator.estimator.estimator  # CalibratedClassifierCV(FrozenEstimator(model))
    try:
        if encoder is not None and isinstance(inner, LinearPredictor):
            return LinearExplainer(encoder, inner.coefficients, training_means(pipeline, encoder, probe_rows), names)
        if encoder is not None and isinstance(inner, TreePredictor):
            return tree_explainer(encoder, estimator, names)
    except Exception as exc:
        log.warning("exact contributions unavailable (%r); using baseline substitution", exc)
    return BaselineSubstitutionExplainer(schema, predictor.many)


class CalibratedLeafScoring:
    """TreePathExplainer.scored, then the calibrator: a class rather than a closure, as the model is
    pickled from the training worker."""

    def __init__(self, scored: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]], calibrate: Callable[[np.ndarray], np.ndarray]) -> None:
        self._scored = scored
        self._calibrate = calibrate

    def __call__(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p, contributions = self._scored(x)
        return self._calibrate(p), contributions


def _leaf_scoring(predictor: Predictor, explainer: Any) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None:
    """(probabilities, contributions) of encoded rows from one walk of a forest's trees, where its
    decision paths explain it (TreePathExplainer.scored: the forest's own predict_proba to the bit,
    then its calibrator if it has one); None where the probabilities come from the predictor."""
    if not isinstance(explainer, TreePathExplainer) or not explainer.averaged:
        return None
    if isinstance(predictor, TreePredictor):
        return explainer.scored
    if isinstance(predictor, CalibratedPredictor) and isinstance(predictor.base, TreePredictor):
        return CalibratedLeafScoring(explainer.scored, predictor.calibrate)
    return None


def measure_parity(compiled: Predictor, reference: Predictor, rows: Sequence[Mapping[str, Any]]) -> float | None:
    """Max |compiled - reference| over `rows`, both the one-row and the vectorised path; None without rows
    or when the compiled path fails on them."""
    if not rows:
        return None
    expected = reference.many(rows)
    try:
        one = np.array([compiled.one(row) for row in rows], dtype=np.float64)
        many = np.asarray(compiled.many(rows), dtype=np.float64)
    except Exception as exc:  # a compiled path that crashes is rejected like one that disagrees
        log.warning("compiled %s path failed on the probe rows: %r", compiled.serving_path, exc)
        return None
    if one.shape != expected.shape or many.shape != expected.shape:
        return None
    differences = np.concatenate([np.abs(one - expected), np.abs(many - expected)])
    if not np.all(np.isfinite(differences)):
        return None
    return float(differences.max())
