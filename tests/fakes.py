"""Fakes for the ports whose real adapters need scikit-learn: a trainer and a model."""

from __future__ import annotations

import csv
import io
from typing import Any, Mapping, Sequence

from churn.errors import TrainingFailedError
from churn.datasets import Dataset
from churn.features import FeatureKind, FeatureSchema, FeatureSpec
from churn.evaluation import HoldoutSet
from churn.model_types import ModelType
from churn.feature_batches import FeatureColumns
from churn.prediction_batches import BatchScores
from churn.reasons import DEFAULT_TOP, Reasons
from churn.ports import ChurnModel, TrainedModel, Trainer
from churn.customers import parse_value
from churn.training_options import TrainingOptions


class StubChurnModel(ChurnModel):
    """Scores every row with `base` plus `per_unit` times the first numeric feature, clipped to [0, 1]."""

    def __init__(
        self, schema: FeatureSchema, base: float = 0.5, per_unit: float = 0.0, threshold: float = 0.5,
        holdout_metrics: Mapping[str, float] | None = None,
    ) -> None:
        self._schema = schema
        self._threshold = threshold
        self.holdout_metrics = dict(holdout_metrics or {"roc_auc": 0.8, "accuracy": 0.75})
        self.base = base
        self.per_unit = per_unit
        self.scored = 0

    @property
    def schema(self) -> FeatureSchema:
        return self._schema

    @property
    def serving_path(self) -> str:
        return "stub"

    @property
    def parity(self) -> float | None:
        return 0.0

    @property
    def threshold(self) -> float:
        return self._threshold

    def score(self, features: Mapping[str, Any]) -> float:
        self.scored += 1
        numbers = [features[f.name] for f in self._schema.features if f.kind is FeatureKind.NUMBER and features.get(f.name) is not None]
        value = self.base + self.per_unit * (numbers[0] if numbers else 0.0)
        return min(1.0, max(0.0, value))

    def score_many(self, rows: Sequence[Mapping[str, Any]]) -> list[float]:
        return [self.score(r) for r in rows]

    @property
    def explanation_method(self) -> str:
        return "stub"

    def explain(self, features: Mapping[str, Any]) -> dict[str, float]:
        """The first numeric feature carries `per_unit` x its value; every other feature 0."""
        numbers = [f.name for f in self._schema.features if f.kind is FeatureKind.NUMBER]
        out = {f.name: 0.0 for f in self._schema.features}
        if numbers and features.get(numbers[0]) is not None:
            out[numbers[0]] = self.per_unit * features[numbers[0]]
        return out

    def explain_many(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, float]]:
        return [self.explain(r) for r in rows]

    def reasons_many(self, rows: Sequence[Mapping[str, Any]], labels: Sequence[Mapping[str, Any]], top: int = DEFAULT_TOP) -> list[Reasons]:
        return [Reasons.rank(c, label, top) for c, label in zip(self.explain_many(rows), labels, strict=True)]

    def assess_many(self, columns: FeatureColumns, top: int = DEFAULT_TOP) -> BatchScores:
        rows = columns.encoded_rows()
        reasons = self.reasons_many(rows, columns.clean_rows(), top)
        return BatchScores(self.score_many(rows), [r.to_dict() if r else None for r in reasons])


def schema_of(content: bytes, dataset: Dataset) -> FeatureSchema:
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    specs = []
    for column in dataset.feature_columns:
        values = [parse_value(r[column]) for r in rows]
        if all(v is None or isinstance(v, float) for v in values):
            present = [v for v in values if v is not None]
            specs.append(FeatureSpec(column, FeatureKind.NUMBER, present[0] if present else 0.0))
        else:
            cats = sorted({v for v in values if isinstance(v, str)} | {str(v) for v in values if isinstance(v, float)})
            specs.append(FeatureSpec(column, FeatureKind.CATEGORY, cats[0], tuple(cats)))
    return FeatureSchema(tuple(specs))


class FakeTrainer(Trainer):
    """Builds the schema from the CSV like the real trainer and returns a StubChurnModel.
    `base` sets the probability it will score; `roc_auc` the quality it reports for the model (and
    `evaluate` reports for that model on any hold-out, as if it had measured it); `threshold` the
    threshold it chooses; `fail_with` makes the next training fail."""

    def __init__(self, base: float = 0.5, per_unit: float = 0.0) -> None:
        self.base = base
        self.per_unit = per_unit
        self.roc_auc = 0.8
        self.threshold = 0.5
        self.fail_with: str | None = None
        self.trained: list[tuple[str, str, dict]] = []
        self.options: list[TrainingOptions] = []

    def train(
        self, dataset: Dataset, content: bytes, model_type: ModelType, hyperparameters: Mapping[str, Any], columns=None,
        options: TrainingOptions = TrainingOptions(),
    ) -> TrainedModel:
        if self.fail_with:
            raise TrainingFailedError(self.fail_with)
        self.trained.append((dataset.name, model_type.name, dict(hyperparameters)))
        self.options.append(options)
        metrics = {"roc_auc": self.roc_auc, "accuracy": 0.75}
        model = StubChurnModel(schema_of(content, dataset), self.base, self.per_unit, self.threshold, metrics)
        return TrainedModel(model, metrics, 0.01)

    def holdout(self, dataset: Dataset, content: bytes) -> HoldoutSet:
        rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
        labels = [1 if r[dataset.target] == dataset.positive_label else 0 for r in rows]
        features = [{c: parse_value(r[c]) for c in dataset.feature_columns} for r in rows]
        return HoldoutSet(dataset.feature_columns, features, labels)

    def evaluate(self, model: ChurnModel, holdout: HoldoutSet) -> dict[str, float]:
        return dict(getattr(model, "holdout_metrics", {"roc_auc": 0.5}))
