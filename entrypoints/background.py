"""Periodic work in daemon threads of a serving process, off the request path."""

from __future__ import annotations

import logging
import threading
from typing import Callable

log = logging.getLogger("churn")


class Periodic:
    """Calls `action` every `interval` seconds in a daemon thread until stopped. An exception is
    logged and the next round goes on: background upkeep must never take the service down."""

    def __init__(self, name: str, interval: float, action: Callable[[], object]) -> None:
        self._name = name
        self._interval = max(0.05, float(interval))
        self._action = action
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stopping.wait(self._interval):
            try:
                self._action()
            except Exception:
                log.exception("%s: a background round failed", self._name)
