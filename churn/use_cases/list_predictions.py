from __future__ import annotations

from churn.errors import CustomerNotFoundError
from churn.bands import Band, ProbabilityRange
from churn.paging import Page, PageRequest
from churn.predictions import Prediction
from churn.versions import ModelFilter
from churn.offset_cursor import OffsetCursor
from churn.ports import CustomerRepository, PredictionRepository


class ListCustomerPredictions:
    def __init__(self, customers: CustomerRepository, predictions: PredictionRepository) -> None:
        self._customers = customers
        self._predictions = predictions

    def execute(self, customer_id: str, page: PageRequest) -> Page[Prediction]:
        """Newest first; `next` is the following page's token when more remain. CustomerNotFoundError when the id is neither a customer nor has predictions."""
        result = self._predictions.for_customer(customer_id, page)
        if result.total == 0 and not self._customers.exists(customer_id):
            raise CustomerNotFoundError(f"customer {customer_id!r} is not in the customer base and has no predictions")
        return OffsetCursor.with_next(result)


class ListPredictionsByBand:
    def __init__(self, predictions: PredictionRepository) -> None:
        self._predictions = predictions

    def execute(self, probabilities: ProbabilityRange, model: ModelFilter | None, page: PageRequest) -> Page[Prediction]:
        """Highest churn probability first, then newest."""
        return self._predictions.in_range(probabilities, model, page)


class CountPredictionsByBand:
    def __init__(self, predictions: PredictionRepository) -> None:
        self._predictions = predictions

    def execute(self, model: ModelFilter | None = None) -> dict[Band, int]:
        return self._predictions.count_by_band(model)
