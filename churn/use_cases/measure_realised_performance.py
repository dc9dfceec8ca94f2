from __future__ import annotations

from churn.versions import ModelRef
from churn.outcomes import RealisedPerformance, check_horizon, realised_performance
from churn.ports import ModelRecordRepository, OutcomeRepository, PredictionRepository


class MeasureRealisedPerformance:
    """How a version did on real outcomes: its predictions matched with the outcomes observed within
    `horizon_days` after them (churn.outcomes), at the decision threshold of that version."""

    def __init__(self, records: ModelRecordRepository, predictions: PredictionRepository, outcomes: OutcomeRepository) -> None:
        self._records = records
        self._predictions = predictions
        self._outcomes = outcomes

    def execute(self, ref: ModelRef, horizon_days: int = 90) -> RealisedPerformance:
        """ModelNotFoundError for an unknown version; InvalidRequestError for a bad horizon."""
        check_horizon(horizon_days)
        threshold = self._records.get(ref).summary.threshold
        return realised_performance(self._predictions.scores_of(ref), self._outcomes.list_all(), horizon_days, threshold)
