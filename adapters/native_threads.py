"""One thread for the native libraries (OpenBLAS, OpenMP) while a training runs.

A training runs its fold fits in threads of its own, one per core; each library pool adding its
threads on top oversubscribes the cores, and on a loaded machine an OpenMP barrier waiting for a
descheduled thread costs more than the work: a k-NN training on Telco took 3.0 s and 8.0 s with the
default two threads per pool against 1.4 s and 1.6 s with one (load 4). The limit is process-wide
(threadpoolctl changes the libraries' global setting), so nested and concurrent trainings share one:
set by the first to enter, restored by the last to leave."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Iterator

from threadpoolctl import threadpool_limits

_lock = threading.Lock()
_holders = 0
_limits: Any = None


@contextmanager
def single_native_thread() -> Iterator[None]:
    global _holders, _limits
    with _lock:
        if _holders == 0:
            _limits = threadpool_limits(1)
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                _limits.restore_original_limits()
                _limits = None
