"""Identifiers the service makes up: of predictions, jobs, scoring runs."""

from __future__ import annotations

import os
import random
import uuid

_ids = random.Random()  # seeded from the OS at import, re-seeded in a forked child
os.register_at_fork(after_in_child=_ids.seed)


def fresh_id() -> str:
    """A random 128-bit id in UUID version 4 layout, as hex. Drawn from a generator seeded by the OS
    rather than from os.urandom per call: a system call on every prediction cost more than scoring
    it. Ids must be unique, not secret (nothing is authorised by knowing one)."""
    return uuid.UUID(int=_ids.getrandbits(128), version=4).hex
