"""Contributions per original feature for the compiled models (churn.reasons ranks them).

- Logistic regression, exact: coefficient x (encoded value - its training mean), one-hot columns summed
  back to their feature; they add up to logit(p) - logit at the training means. The means are kept on
  the fitted pipeline by the trainer (`TRAINING_MEANS`); a pipeline without them (an older version)
  falls back to the probe rows' means.
- Trees (decision tree, random forest, gradient boosting): path-dependent TreeSHAP, `shap.TreeExplainer`
  on the encoded columns, summed per feature (probability units for forests, log-odds for boosting).
- Anything else (SVC, k-NN, a pipeline served by scikit-learn): baseline substitution, model-agnostic:
  contribution of a feature = p(x) - p(x with that feature set to its training baseline, the value the
  imputer fills in: median for numbers, most frequent category); one vectorised call per batch of rows.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from adapters.fast_scoring.encoding import RowEncoder
from churn.model import FeatureSchema
from churn.reasons import ExplanationMethod

log = logging.getLogger(__name__)

TRAINING_MEANS = "churn_training_means_"
"""Attribute of the fitted Pipeline: the encoded training matrix's column means (set by the trainer)."""


def aggregation(encoder: RowEncoder, names: Sequence[str]) -> np.ndarray:
    """(encoded width x features) 0/1 matrix: which feature each encoded column belongs to."""
    index = {name: i for i, name in enumerate(names)}
    matrix = np.zeros((encoder.width, len(names)))
    for slot in encoder.numeric:
        matrix[slot.position, index[slot.name]] = 1.0
    for slot in encoder.categorical:
        for position in set(slot.positions.values()) | ({slot.unknown} if slot.unknown is not None else set()):
            matrix[position, index[slot.name]] = 1.0
    return matrix


class LinearExplainer:
    method = ExplanationMethod.LINEAR

    def __init__(self, encoder: RowEncoder, coef: np.ndarray, means: np.ndarray, names: Sequence[str]) -> None:
        weights = coef.tolist()
        self._names = tuple(names)
        self._numeric = tuple(
            (s.name, s.fill, s.mean, s.scale, weights[s.position], float(means[s.position])) for s in encoder.numeric
        )
        self._categorical = tuple(
            (
                s.name,
                {c: weights[p] for c, p in s.positions.items()},
                0.0 if s.unknown is None else weights[s.unknown],
                float(sum(weights[p] * means[p] for p in set(s.positions.values()) | ({s.unknown} if s.unknown is not None else set()))),
            )
            for s in encoder.categorical
        )
        self._encoder = encoder
        self._centred_weights = coef
        self._means = means
        self._aggregate = aggregation(encoder, names)

    def one(self, features: Mapping[str, Any]) -> dict[str, float]:
        out: dict[str, float] = {}
        for name, fill, mean, scale, weight, centre in self._numeric:
            value = features[name]
            out[name] = weight * (((fill if value is None else value) - mean) / scale - centre)
        for name, weights, unknown, baseline in self._categorical:
            out[name] = weights.get(features[name], unknown) - baseline
        return out

    def many(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, float]]:
        contributions = ((self._encoder.matrix(rows) - self._means) * self._centred_weights) @ self._aggregate
        names = self._names
        return [dict(zip(names, row)) for row in contributions.tolist()]


class TreeShapExplainer:
    method = ExplanationMethod.TREE_SHAP

    def __init__(self, encoder: RowEncoder, estimator: Any, names: Sequence[str]) -> None:
        import shap  # imported on first tree model: it takes a second to import

        self._explainer = shap.TreeExplainer(estimator, feature_perturbation="tree_path_dependent")
        self._encoder = encoder
        self._names = tuple(names)
        self._aggregate = aggregation(encoder, names)

    def values(self, x: np.ndarray) -> np.ndarray:
        """SHAP values of the positive class on encoded rows, (rows x encoded columns)."""
        values = self._explainer.shap_values(x.astype(np.float32), check_additivity=False)
        if isinstance(values, list):
            values = values[1]
        values = np.asarray(values)
        if values.ndim == 3:
            values = values[:, :, 1]
        return values

    @property
    def expected_value(self) -> float:
        expected = np.atleast_1d(self._explainer.expected_value)
        return float(expected[-1])

    def one(self, features: Mapping[str, Any]) -> dict[str, float]:
        return self.many([features])[0]

    def many(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, float]]:
        contributions = self.values(self._encoder.matrix(rows)) @ self._aggregate
        names = self._names
        return [dict(zip(names, row)) for row in contributions.tolist()]


class BaselineSubstitutionExplainer:
    method = ExplanationMethod.BASELINE_SUBSTITUTION

    def __init__(self, schema: FeatureSchema, many: Callable[[Sequence[Mapping[str, Any]]], np.ndarray]) -> None:
        try:  # the examples as a request would send them, encoded as the model takes them (dates as ages, ...)
            self._baseline = dict(schema.encode(schema.check(schema.example())))
        except Exception:  # noqa: BLE001 - an example the checks refuse still serves as a baseline
            self._baseline = {f.name: f.example for f in schema.features}
        self._names = tuple(schema.names)
        self._many = many

    def one(self, features: Mapping[str, Any]) -> dict[str, float]:
        return self.many([features])[0]

    def many(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, float]]:
        variants: list[Mapping[str, Any]] = []
        for row in rows:
            variants.append(row)
            for name in self._names:
                variants.append({**row, name: self._baseline[name]})
        scores = np.asarray(self._many(variants), dtype=np.float64).reshape(len(rows), len(self._names) + 1)
        contributions = scores[:, :1] - scores[:, 1:]
        names = self._names
        return [dict(zip(names, row)) for row in contributions.tolist()]


def training_means(pipeline: Any, encoder: RowEncoder, probe_rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
    means = getattr(pipeline, TRAINING_MEANS, None)
    if means is not None and len(means) == encoder.width:
        return np.asarray(means, dtype=np.float64)
    log.warning("the pipeline carries no training means; linear contributions are centred on the probe rows instead")
    if not probe_rows:
        return np.zeros(encoder.width)
    return encoder.matrix(probe_rows).mean(axis=0)
