"""Tasks a test runs in a spawned worker to look inside it."""

import sys


def imported(module: str) -> bool:
    """Whether the worker has `module` imported already (a spawned worker starts with few)."""
    return module in sys.modules
