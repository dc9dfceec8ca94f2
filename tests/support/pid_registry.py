"""A registry for worker-process tests: `register` answers with the pid of the process it ran in (as
the record's run id), so a test can tell where a registration happened."""

from __future__ import annotations

import os

from churn.versions import ModelRecord, ModelRef


class PidRegistry:
    def __init__(self, name_prefix: str = "") -> None:
        self._prefix = name_prefix

    def register(self, name, model, summary, reports=None):
        return ModelRecord(ModelRef(self._prefix + name, 1), summary, str(os.getpid()))
