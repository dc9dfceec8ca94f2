from __future__ import annotations

from churn.errors import ModelNotFoundError
from churn.ports import ModelRecordRepository, ModelRegistry


class SyncModelRecords:
    """At start-up, copy into `MODELOS` the versions the registry has and the store lacks
    (a fresh store in front of an existing MLflow)."""

    def __init__(self, registry: ModelRegistry, records: ModelRecordRepository) -> None:
        self._registry = registry
        self._records = records

    def execute(self) -> int:
        added = 0
        for record in self._registry.records():
            try:
                self._records.get(record.ref)
            except ModelNotFoundError:
                self._records.save(record)
                added += 1
        return added
