"""The in-process model cache: an LRU of loaded model versions with the active one pinned."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Callable

from churn.model import ModelRef
from churn.ports import ChurnModel, ModelCache


class LruModelCache(ModelCache):
    """Keeps at most `capacity` models plus the pinned one. Loads run outside the cache lock, one
    per ref at a time, so a slow load never blocks scoring with models already in memory."""

    def __init__(self, capacity: int = 4) -> None:
        if capacity < 1:
            raise ValueError("the model cache needs a capacity of at least 1")
        self._capacity = capacity
        self._models: OrderedDict[ModelRef, ChurnModel] = OrderedDict()
        self._pinned: ModelRef | None = None
        self._lock = threading.Lock()
        self._loading: dict[ModelRef, threading.Lock] = {}
        self.hits = 0
        self.misses = 0
        self.load_seconds: list[float] = []

    def get_or_load(self, ref: ModelRef, loader: Callable[[ModelRef], ChurnModel]) -> ChurnModel:
        with self._lock:
            model = self._models.get(ref)
            if model is not None:
                self._models.move_to_end(ref, last=False)
                self.hits += 1
                return model
            ref_lock = self._loading.setdefault(ref, threading.Lock())
        with ref_lock:
            with self._lock:
                model = self._models.get(ref)
                if model is not None:
                    self.hits += 1
                    return model
                self.misses += 1
            started = time.perf_counter()
            model = loader(ref)
            self.load_seconds.append(time.perf_counter() - started)
            self.put(ref, model)
            with self._lock:
                self._loading.pop(ref, None)
            return model

    def put(self, ref: ModelRef, model: ChurnModel) -> None:
        with self._lock:
            self._models[ref] = model
            self._models.move_to_end(ref, last=False)
            self._evict()

    def pin(self, ref: ModelRef) -> None:
        with self._lock:
            self._pinned = ref
            self._evict()

    def cached(self) -> list[ModelRef]:
        with self._lock:
            return list(self._models)

    def _evict(self) -> None:
        while len(self._models) > self._capacity:
            victim = next((r for r in reversed(self._models) if r != self._pinned), None)
            if victim is None:
                return
            del self._models[victim]
