from __future__ import annotations

from churn.versions import ModelEntry
from churn.ports import ModelRecordRepository
from churn.use_cases.active_model import ActiveModel


class ListModels:
    def __init__(self, records: ModelRecordRepository, active: ActiveModel) -> None:
        self._records = records
        self._active = active

    def execute(self) -> list[ModelEntry]:
        """Every trained version, newest first, with the active one flagged."""
        active = self._active.current_ref()
        return [ModelEntry(r, r.ref == active) for r in self._records.list()]
