"""A model registry kept in memory: the fake for unit tests and `CHURN_REGISTRY=memory`."""

from __future__ import annotations

import threading
import uuid
from typing import Mapping

from churn.errors import ModelArtifactError, ModelNotFoundError
from churn.features import FeatureSchema
from churn.versions import ModelRecord, ModelRef, TrainingSummary
from churn.ports import ChurnModel, ModelArtifact, ModelCodec, ModelRegistry


class KeptAsIs(ModelCodec):
    """The codec of unit tests' fakes: the artifact is the model object itself."""

    def dump(self, model: ChurnModel) -> ModelArtifact:
        return ModelArtifact(model, ())

    def load(self, artifact: ModelArtifact, schema: FeatureSchema, threshold: float) -> ChurnModel:
        model: ChurnModel = artifact.estimator
        return model


class InMemoryModelRegistry(ModelRegistry):
    """Versions per name count from 1; records come newest registered first; `register` keeps what
    the codec dumps and `load` gives what it loads back (by default the registered object itself).
    The active pointer lives as long as the instance (the process)."""

    def __init__(self, codec: ModelCodec | None = None) -> None:
        self._codec = codec or KeptAsIs()
        self._models: dict[ModelRef, tuple[ModelRecord, ModelArtifact]] = {}
        self._order: list[ModelRef] = []
        self._active: ModelRef | None = None
        self._broken: set[ModelRef] = set()
        self._lock = threading.Lock()

    def register(self, name: str, model: ChurnModel, summary: TrainingSummary, reports: Mapping[str, bytes] = {}) -> ModelRecord:
        ModelRef(name, 1)  # InvalidRequestError for a bad name, before anything is kept
        artifact = self._codec.dump(model)
        with self._lock:
            version = 1 + max((ref.version for ref in self._models if ref.name == name), default=0)
            record = ModelRecord(ModelRef(name, version), summary, run_id=uuid.uuid4().hex)
            self._models[record.ref] = (record, artifact)
            self._order.append(record.ref)
            return record

    def load(self, ref: ModelRef) -> ChurnModel:
        """ModelNotFoundError when unknown; ModelArtifactError for a ref passed to `break_artifact`."""
        with self._lock:
            record, artifact = self._entry(ref)
            if ref in self._broken:
                raise ModelArtifactError(f"the artifact of model {ref} is corrupt and cannot be loaded; train a new version")
        return self._codec.load(artifact, record.summary.schema, record.summary.threshold)

    def records(self) -> list[ModelRecord]:
        with self._lock:
            return [self._models[ref][0] for ref in reversed(self._order)]

    def set_active(self, ref: ModelRef) -> None:
        """ModelNotFoundError when unknown."""
        with self._lock:
            self._entry(ref)
            self._active = ref

    def active(self) -> ModelRef | None:
        return self._active

    def break_artifact(self, ref: ModelRef) -> None:
        """Make `load(ref)` fail as a corrupt artifact would. ModelNotFoundError when unknown."""
        with self._lock:
            self._entry(ref)
            self._broken.add(ref)

    def _entry(self, ref: ModelRef) -> tuple[ModelRecord, ModelArtifact]:
        try:
            return self._models[ref]
        except KeyError:
            raise ModelNotFoundError(f"model {ref} is not registered") from None
