"""Python's cyclic garbage collector and a process's long-lived objects."""

from __future__ import annotations

import gc


def freeze_long_lived() -> None:
    """Move everything alive now (imported libraries, loaded models, the container) out of the
    collector's generations for good: the collections that the millions of short-lived objects of a
    scoring run set off then no longer walk them again and again (they took about a third of a
    run's time). `main.py serve` does the same at the end of its start-up (entrypoints/api/app.py);
    `main.py score-all` calls this once the model is loaded. Objects created later are collected as
    usual, the youngest generation once BATCH_WORK_THRESHOLD more objects are alive rather than
    Python's 700: a run's batch holds over a hundred thousand (its records, rows, reasons' lists) until
    it is stored, and each collection below that walked them again without finding garbage (a tenth of a
    run's time, py-spy; at 10,000, 120 collections finding nothing took 0.4-0.66 s of a 100,000-customer
    run, at 100,000 three took 0.08-0.14 s). Objects freed by their reference count are freed at once,
    whatever the threshold."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(BATCH_WORK_THRESHOLD, 50, 1000)


BATCH_WORK_THRESHOLD = 100_000
