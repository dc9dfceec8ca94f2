from __future__ import annotations

from typing import Iterator

from churn.exports import RISK_CSV_COLUMNS, risk_row
from churn.bands import ProbabilityRange
from churn.paging import MAX_PAGE_SIZE, PageRequest
from churn.predictions import PredictionCursor
from churn.versions import ModelFilter
from churn.ports import PredictionRepository


class ExportCustomersByRisk:
    """The latest-risk list as CSV rows for a CRM (churn.exports), read a page at a time by cursor, so
    the whole base streams in constant memory."""

    def __init__(self, predictions: PredictionRepository) -> None:
        self._predictions = predictions

    def execute(self, probabilities: ProbabilityRange, model: ModelFilter | None) -> Iterator[list[str]]:
        """The header, then one row per customer in band order."""
        yield list(RISK_CSV_COLUMNS)
        after: PredictionCursor | None = None
        while True:
            page = self._predictions.latest_in_range(probabilities, model, PageRequest(MAX_PAGE_SIZE, 0, after))
            for prediction in page.items:
                yield risk_row(prediction)
            if page.next is None:
                return
            after = PredictionCursor.decode(page.next)
