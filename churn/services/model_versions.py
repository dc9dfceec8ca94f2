from __future__ import annotations

from churn.errors import ModelNotFoundError
from churn.versions import ModelFilter, ModelRef
from churn.ports import ChurnModel, ModelCache, ModelRecordRepository, ModelRegistry
from churn.services.active_model import ActiveModel


class ModelVersions:
    """Which model scores a request: the active one, or the version the request names (comparing
    versions, a shadow test before /use-model), loaded through the model cache."""

    def __init__(self, active: ActiveModel, records: ModelRecordRepository, registry: ModelRegistry, cache: ModelCache) -> None:
        self._active = active
        self._records = records
        self._registry = registry
        self._cache = cache

    def get(self, wanted: ModelFilter | None = None) -> tuple[ModelRef, ChurnModel]:
        """The active model (NoActiveModelError when none) when `wanted` is None; else `name:version`,
        or `name` for its newest version; ModelNotFoundError when there is none."""
        if wanted is None:
            return self._active.current()
        if wanted.version is None:
            versions = [record.ref.version for record in self._records.list() if record.ref.name == wanted.name]
            if not versions:
                raise ModelNotFoundError(f"no trained model is named {wanted.name!r}: GET /models lists them")
            ref = ModelRef(wanted.name, max(versions))
        else:
            ref = ModelRef(wanted.name, wanted.version)
        return ref, self._cache.get_or_load(ref, self._load)

    def _load(self, ref: ModelRef) -> ChurnModel:
        self._records.get(ref)  # ModelNotFoundError for a version never trained (checked on a cache miss only)
        return self._registry.load(ref)
