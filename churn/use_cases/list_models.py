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


class ListRecordedModels:
    """Every trained version as the store has it, the active one being the version the service last
    recorded as active: answers without the registry (a quick CLI listing), so a pointer moved in
    the registry by hand shows here once a server follows it."""

    def __init__(self, records: ModelRecordRepository) -> None:
        self._records = records

    def execute(self) -> list[ModelEntry]:
        active = self._records.last_active()
        return [ModelEntry(r, r.ref == active) for r in self._records.list()]
