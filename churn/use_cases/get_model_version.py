from __future__ import annotations

from churn.ports import ModelCache, ModelRecordRepository
from churn.services.active_model import ActiveModel
from churn.versions import ModelEntry, ModelRef


class GetModelVersion:
    def __init__(self, records: ModelRecordRepository, active: ActiveModel, cache: ModelCache) -> None:
        self._records = records
        self._active = active
        self._cache = cache

    def execute(self, name: str, version: int) -> ModelEntry:
        """One version with its full feature schema and its evaluation; ModelNotFoundError when never trained."""
        ref = ModelRef(name, version)
        record = self._records.get(ref)
        return ModelEntry.of(record, record.ref == self._active.current_ref(), self._cache.loaded(ref))
