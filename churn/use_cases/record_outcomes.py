from __future__ import annotations

from typing import Any, Sequence

from churn.outcomes import Outcome, OutcomeReport, read_outcomes
from churn.ports import OutcomeRepository

IMPORT_BATCH = 1000


class RecordOutcomes:
    """Keep who left (or stayed), once per customer and UTC day: recording the same again changes nothing."""

    def __init__(self, outcomes: OutcomeRepository) -> None:
        self._outcomes = outcomes

    def execute(self, items: Sequence[tuple[Any, Any, Any]]) -> OutcomeReport:
        """(customer_id, churned, observed_at) each; InvalidRequestError for any bad item, nothing stored."""
        return self._outcomes.add_many([Outcome.of(*item) for item in items])

    def import_csv(self, content: bytes) -> OutcomeReport:
        """A CSV with customer_id, churned, observed_at; bad rows reported by line, the good ones kept."""
        outcomes, rejected = read_outcomes(content)
        inserted = updated = unchanged = 0
        for start in range(0, len(outcomes), IMPORT_BATCH):
            report = self._outcomes.add_many(outcomes[start : start + IMPORT_BATCH])
            inserted += report.inserted
            updated += report.updated
            unchanged += report.unchanged
        return OutcomeReport(inserted, updated, unchanged, tuple(rejected))
