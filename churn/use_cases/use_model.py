from __future__ import annotations

from churn.errors import ModelNotFoundError
from churn.versions import ModelEntry, ModelRef
from churn.ports import ModelCache, ModelRecordRepository, ModelRegistry
from churn.services.active_model import ActiveModel


class UseModel:
    """Load a trained version and make it the one every later prediction uses.

    The previous active model keeps serving until the new one is loaded; a version that cannot be
    loaded (ModelArtifactError) changes nothing."""

    def __init__(self, records: ModelRecordRepository, registry: ModelRegistry, cache: ModelCache, active: ActiveModel) -> None:
        self._records = records
        self._registry = registry
        self._cache = cache
        self._active = active

    def execute(self, name: str, version: int) -> ModelEntry:
        ref = ModelRef(name, version)
        record = self._records.get(ref)  # ModelNotFoundError
        model = self._cache.get_or_load(ref, self._registry.load)
        self._active.switch(ref, model)
        return ModelEntry.of(record, True, model)


class GetActiveModel:
    def __init__(self, records: ModelRecordRepository, active: ActiveModel, cache: ModelCache) -> None:
        self._records = records
        self._active = active
        self._cache = cache

    def execute(self) -> ModelEntry:
        """NoActiveModelError→ surfaced as ModelNotFoundError (404) when nothing is active."""
        ref = self._active.current_ref()
        if ref is None:
            raise ModelNotFoundError("no model is active: train one with POST /train or pick one with POST /use-model")
        return ModelEntry.of(self._records.get(ref), True, self._cache.loaded(ref))
