"""Many predictions at once, a column each: what a scoring run makes of a batch of customers and
stores without a Prediction, a Reasons and six Reason objects per customer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Mapping, Sequence

from churn.decision import DEFAULT_THRESHOLD
from churn.features import FeatureValue
from churn.ids import fresh_id
from churn.predictions import Prediction
from churn.reasons import NO_REASONS, ReasonLists, Reasons
from churn.versions import ModelRef


@dataclass(frozen=True, slots=True)
class BatchScores:
    """A model's churn probabilities and reasons for many rows, in order (ChurnModel.assess_many)."""

    probabilities: Sequence[float]
    reasons: Sequence[ReasonLists | None]
    """Each row's Reasons.to_dict(), None for a row without reasons."""

    def __post_init__(self) -> None:
        if len(self.probabilities) != len(self.reasons):
            raise ValueError("one probability and one set of reasons per row")


@dataclass(frozen=True, slots=True)
class PredictionBatch:
    """Predictions of one version made at one moment (of one scoring run, or of none), row i across
    the columns; `predictions()` gives them one by one, as the store is to keep them."""

    model: ModelRef
    created_at: datetime
    run_id: str | None
    threshold: float
    prediction_ids: Sequence[str]
    customer_ids: Sequence[str | None]
    features: Sequence[Mapping[str, FeatureValue]]
    probabilities: Sequence[float]
    reasons: Sequence[ReasonLists | None]
    """Each row's Reasons.to_dict(), None for a row without reasons."""

    def __post_init__(self) -> None:
        n = len(self.prediction_ids)
        if any(len(column) != n for column in (self.customer_ids, self.features, self.probabilities, self.reasons)):
            raise ValueError("every column of a prediction batch needs one value per prediction")
        if not all(0.0 <= p <= 1.0 for p in self.probabilities):  # Prediction's rule, for the whole column
            raise ValueError("churn probabilities must be in [0, 1]")

    @classmethod
    def new(
        cls,
        customer_ids: Sequence[str | None],
        features: Sequence[Mapping[str, FeatureValue]],
        scores: BatchScores,
        model: ModelRef,
        now: datetime,
        run_id: str | None = None,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> "PredictionBatch":
        """Fresh ids and the probabilities clamped into [0, 1], as Prediction.new does one at a time."""
        probabilities = [min(1.0, max(0.0, float(p))) for p in scores.probabilities]
        ids = [fresh_id() for _ in probabilities]
        return cls(model, now, run_id, threshold, ids, list(customer_ids), list(features), probabilities, list(scores.reasons))

    def __len__(self) -> int:
        return len(self.prediction_ids)

    def predictions(self) -> list[Prediction]:
        """Row by row, for a store that keeps Prediction values (and for comparing with them)."""
        model, created_at, run_id, threshold = self.model, self.created_at, self.run_id, self.threshold
        return [
            Prediction(i, c, f, p, model, created_at, NO_REASONS if r is None else Reasons.from_dict(r), run_id, threshold)
            for i, c, f, p, r in zip(self.prediction_ids, self.customer_ids, self.features, self.probabilities, self.reasons, strict=True)
        ]
