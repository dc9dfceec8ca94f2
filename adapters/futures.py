"""A future settled at once, for stores that store on the caller's thread: the PredictionSubmitter
port promises a Future, and those stores have nothing to wait for."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any, Callable


def settled(store: Callable[..., Any], *args: Any, after: Future[None] | None = None) -> Future[None]:
    """`store(*args)` run now; the future holds its outcome (None, or the exception it raised).
    Not run when `after` failed: the future fails with its exception (see PredictionRepository.submit_batch)."""
    done: Future[None] = Future()
    try:
        if after is not None:
            after.result()
        store(*args)
    except Exception as exc:
        done.set_exception(exc)
    else:
        done.set_result(None)
    return done
