from __future__ import annotations

from churn.ports import ModelCache, ModelRecordRepository
from churn.services.active_model import ActiveModel
from churn.versions import ModelEntry


class ListModels:
    def __init__(self, records: ModelRecordRepository, active: ActiveModel, cache: ModelCache) -> None:
        self._records = records
        self._active = active
        self._cache = cache

    def execute(self) -> list[ModelEntry]:
        """Every trained version, newest first, with the active one flagged and, for those this
        process holds loaded, how they score."""
        active = self._active.current_ref()
        return [ModelEntry.of(r, r.ref == active, self._cache.loaded(r.ref)) for r in self._records.list()]
