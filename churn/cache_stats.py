"""What a model cache reports about itself (for metrics)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CacheStats:
    """Running totals since the cache was made. A hit is a lookup answered from memory, a miss one that
    loaded the version into memory; a lookup whose load raised (unknown version, unusable artifact) is
    a load failure, not a miss."""

    hits: int = 0
    misses: int = 0
    load_failures: int = 0
    load_seconds_total: float = 0.0
    load_seconds_last: float = 0.0
    size: int = 0
