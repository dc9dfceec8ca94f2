from __future__ import annotations

from churn.bands import Band
from churn.versions import ModelFilter
from churn.ports import PredictionRepository


class CountCustomersByBand:
    """How many customers (not predictions) have their latest risk in each band."""

    def __init__(self, predictions: PredictionRepository) -> None:
        self._predictions = predictions

    def execute(self, model: ModelFilter | None) -> dict[Band, int]:
        return self._predictions.count_latest_by_band(model)
