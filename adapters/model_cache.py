"""The in-process model cache: an LRU of loaded model versions with the active one pinned."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Callable

from churn.cache_stats import CacheStats
from churn.versions import ModelRef
from churn.ports import ChurnModel, ModelCache


class LruModelCache(ModelCache):
    """Keeps at most `capacity` models plus the pinned one. Loads run outside the cache lock, one
    per ref at a time, so a slow load never blocks scoring with models already in memory.

    Whatever is asked for, the memory held is bounded: a per-ref load lock lives only while someone
    waits on it (a failed load leaves nothing behind), and load times are running totals. A hit is a
    lookup answered from memory, a miss one that loaded the version into memory, a load failure one
    whose loader raised (an unknown version, an unusable artifact): that is not a miss."""

    def __init__(self, capacity: int = 4) -> None:
        if capacity < 1:
            raise ValueError("the model cache needs a capacity of at least 1")
        self._capacity = capacity
        self._models: OrderedDict[ModelRef, ChurnModel] = OrderedDict()
        self._pinned: ModelRef | None = None
        self._lock = threading.Lock()
        self._loading: dict[ModelRef, list] = {}  # ref -> [lock, number of threads using it]
        self.hits = 0
        self.misses = 0
        self.load_failures = 0
        self.load_seconds_total = 0.0
        self.load_seconds_last = 0.0

    def get_or_load(self, ref: ModelRef, loader: Callable[[ModelRef], ChurnModel]) -> ChurnModel:
        with self._lock:
            model = self._models.get(ref)
            if model is not None:
                self._models.move_to_end(ref, last=False)
                self.hits += 1
                return model
            entry = self._loading.get(ref)
            if entry is None:
                entry = self._loading[ref] = [threading.Lock(), 0]
            entry[1] += 1
        try:
            with entry[0]:
                with self._lock:
                    model = self._models.get(ref)
                    if model is not None:
                        self.hits += 1  # another thread loaded it while this one waited
                        return model
                started = time.perf_counter()
                try:
                    model = loader(ref)
                except BaseException:
                    with self._lock:
                        self.load_failures += 1
                    raise
                elapsed = time.perf_counter() - started
                with self._lock:
                    self.misses += 1
                    self.load_seconds_total += elapsed
                    self.load_seconds_last = elapsed
                self.put(ref, model)
                return model
        finally:
            with self._lock:
                entry[1] -= 1
                if entry[1] == 0 and self._loading.get(ref) is entry:
                    del self._loading[ref]

    def put(self, ref: ModelRef, model: ChurnModel) -> None:
        with self._lock:
            self._models[ref] = model
            self._models.move_to_end(ref, last=False)
            self._evict()

    def pin(self, ref: ModelRef) -> None:
        with self._lock:
            self._pinned = ref
            self._evict()

    def loaded(self, ref: ModelRef) -> ChurnModel | None:
        with self._lock:
            return self._models.get(ref)

    def cached(self) -> list[ModelRef]:
        with self._lock:
            return list(self._models)

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(
                hits=self.hits,
                misses=self.misses,
                load_failures=self.load_failures,
                load_seconds_total=self.load_seconds_total,
                load_seconds_last=self.load_seconds_last,
                size=len(self._models),
            )

    def callers_loading(self, ref: ModelRef) -> int:
        """Callers inside a load of `ref`: the one loading and those waiting on its lock."""
        with self._lock:
            entry = self._loading.get(ref)
            return 0 if entry is None else entry[1]

    def pending_loads(self) -> int:
        """Refs with a load lock held or awaited (0 when no load is under way)."""
        with self._lock:
            return len(self._loading)

    def _evict(self) -> None:
        while len(self._models) > self._capacity:
            victim = next((r for r in reversed(self._models) if r != self._pinned), None)
            if victim is None:
                return
            del self._models[victim]
