"""The model version serving this process, kept in step with the registry's active pointer."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from churn.errors import ChurnError, NoActiveModelError
from churn.versions import ModelRef
from churn.ports import ChurnModel, Clock, ModelCache, ModelRecordRepository, ModelRegistry

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RegistryRead:
    """How one read of the registry's active pointer went."""

    at: float
    """Clock.monotonic() when it ended."""
    error: str | None
    """None when the pointer was read; else why not."""


class ActiveModel:
    """Holds (ref, model) as one tuple swapped atomically, so a request that read it is scored
    and labelled by the same version. Re-reads the registry's pointer at most every
    `refresh_seconds`, so another process's switch is followed without a restart."""

    def __init__(
        self,
        registry: ModelRegistry,
        cache: ModelCache,
        clock: Clock,
        refresh_seconds: float = 5.0,
        records: ModelRecordRepository | None = None,
    ) -> None:
        """`records`, when given, gets a copy of the pointer each time this process learns of a new
        active version (ModelRecordRepository.mark_active)."""
        self._records = records
        self._registry = registry
        self._cache = cache
        self._clock = clock
        self._refresh_seconds = refresh_seconds
        self._serving: tuple[ModelRef, ChurnModel] | None = None
        self._checked_at: float | None = None
        self._last_read: RegistryRead | None = None
        self._read_started: float | None = None
        self._lock = threading.Lock()

    def current(self) -> tuple[ModelRef, ChurnModel]:
        """NoActiveModelError when no version was ever activated."""
        if self._stale():
            if self._serving is None:
                with self._lock:
                    self._refresh()
            elif self._lock.acquire(blocking=False):
                try:
                    self._refresh()
                finally:
                    self._lock.release()
        serving = self._serving
        if serving is None:
            raise NoActiveModelError(
                "no model is active: train one with POST /train (it activates on success) "
                "or pick a trained version with POST /use-model"
            )
        return serving

    def current_ref(self) -> ModelRef | None:
        try:
            return self.current()[0]
        except NoActiveModelError:
            return None

    def serving_ref(self) -> ModelRef | None:
        """The version serving now, without reading the registry (which `current` may do)."""
        serving = self._serving
        return None if serving is None else serving[0]

    def recent_registry_read(self) -> RegistryRead | None:
        """The last read of the registry's pointer while reads keep coming (the background follower
        starts one every half refresh interval): it ended within two intervals, or the read under way
        began within two intervals of its end (a registry that is down takes seconds of retries to
        fail). Else None. A readiness probe reports it rather than wait for the registry itself."""
        read, started = self._last_read, self._read_started
        if read is None:
            return None
        window = 2 * self._refresh_seconds
        if self._clock.monotonic() - read.at <= window or (started is not None and started - read.at <= window):
            return read
        return None

    def refresh(self) -> None:
        """Re-read the registry's pointer now, loading a newly active version, for a background
        thread: run at least every `refresh_seconds`, it keeps requests from ever finding the pointer
        stale, so none waits for the registry or for a version to load. Registry errors are logged
        and the current version keeps serving."""
        with self._lock:
            try:
                self._refresh(force=True)
            except ChurnError:
                pass  # logged by _refresh; nothing was serving yet, a request will say so

    def switch(self, ref: ModelRef, model: ChurnModel) -> None:
        """Point the registry at `ref` and serve `model` from now on."""
        with self._lock:
            self._registry.set_active(ref)
            self._cache.put(ref, model)
            self._cache.pin(ref)
            self._serving = (ref, model)
            self._checked_at = self._clock.monotonic()
        self._remember(ref)

    def _stale(self) -> bool:
        return self._checked_at is None or self._clock.monotonic() - self._checked_at >= self._refresh_seconds

    def _refresh(self, force: bool = False) -> None:
        if not force and not self._stale():
            return
        try:
            self._read_started = self._clock.monotonic()
            try:
                ref = self._registry.active()
            except ChurnError as exc:
                self._last_read = RegistryRead(self._clock.monotonic(), exc.message)
                raise
            finally:
                self._read_started = None
            self._last_read = RegistryRead(self._clock.monotonic(), None)
            if ref is not None and (self._serving is None or self._serving[0] != ref):
                model = self._cache.get_or_load(ref, self._registry.load)
                self._cache.pin(ref)
                self._serving = (ref, model)
                self._remember(ref)
        except ChurnError as exc:
            # Keep serving what we have; the registry being away must not stop predictions.
            log.warning("could not refresh the active model: %s", exc.message)
            if self._serving is None:
                self._checked_at = self._clock.monotonic()
                raise
        self._checked_at = self._clock.monotonic()

    def _remember(self, ref: ModelRef) -> None:
        if self._records is None:
            return
        try:
            self._records.mark_active(ref)
        except ChurnError as exc:  # the copy is a convenience: the registry's pointer stays the truth
            log.warning("could not record the active version %s in the store: %s", ref, exc.message)
