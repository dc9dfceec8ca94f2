from __future__ import annotations

from churn.bands import ProbabilityRange
from churn.paging import Page, PageRequest
from churn.predictions import Prediction
from churn.versions import ModelFilter
from churn.ports import PredictionRepository


class ListCustomersByRisk:
    """Customers by their latest risk (each one's latest prediction, with its reasons), highest first."""

    def __init__(self, predictions: PredictionRepository) -> None:
        self._predictions = predictions

    def execute(self, probabilities: ProbabilityRange, model: ModelFilter | None, page: PageRequest) -> Page[Prediction]:
        """Band order (probability desc, then newest); `model` keeps customers whose latest prediction it made."""
        return self._predictions.latest_in_range(probabilities, model, page)
