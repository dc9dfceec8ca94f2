"""Python's cyclic garbage collector and a process's long-lived objects."""

from __future__ import annotations

import gc


def freeze_long_lived() -> None:
    """Move everything alive now (imported libraries, loaded models, the container) out of the
    collector's generations for good: the collections that the millions of short-lived objects of a
    scoring run set off then no longer walk them again and again (they took about a third of a
    run's time). `main.py serve` does the same at the end of its start-up (entrypoints/api/app.py);
    `main.py score-all` calls this once the model is loaded. Objects created later are collected as usual."""
    gc.collect()
    gc.freeze()
