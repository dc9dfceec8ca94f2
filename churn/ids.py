"""Identifiers the service makes up: of predictions, jobs, scoring runs."""

from __future__ import annotations

import os
import random

_ids = random.Random()  # seeded from the OS at import, re-seeded in a forked child
os.register_at_fork(after_in_child=_ids.seed)


def fresh_id() -> str:
    """A random 128-bit id in UUID version 4 layout, as hex. Drawn from a generator seeded by the OS
    rather than from os.urandom per call: a system call on every prediction cost more than scoring
    it. Ids must be unique, not secret (nothing is authorised by knowing one)."""
    return f"{_ids.getrandbits(128) & _CLEARED | _VERSION_4:032x}"


_CLEARED = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_VERSION_4 = (0x4000 << 64) | (0x8000 << 48)
"""The UUID version (4) and variant (RFC 4122) bits, set as uuid.UUID(int=..., version=4) sets them,
without building a UUID object (which cost more than the random draw)."""
