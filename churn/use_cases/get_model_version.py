from __future__ import annotations

from churn.versions import ModelEntry, ModelRef
from churn.ports import ModelRecordRepository
from churn.use_cases.active_model import ActiveModel


class GetModelVersion:
    def __init__(self, records: ModelRecordRepository, active: ActiveModel) -> None:
        self._records = records
        self._active = active

    def execute(self, name: str, version: int) -> ModelEntry:
        """One version with its full feature schema and its evaluation; ModelNotFoundError when never trained."""
        ref = ModelRef(name, version)
        record = self._records.get(ref)
        return ModelEntry(record, record.ref == self._active.current_ref())
