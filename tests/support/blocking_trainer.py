"""A trainer for worker-process tests: like FakeTrainer, but `{"block": <path>}` in the hyperparameters
makes it write its pid to that path and wait (to be killed mid-training)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from churn.training_options import TrainingOptions
from tests.fakes import FakeTrainer


class BlockingTrainer(FakeTrainer):
    def train(self, dataset, content, model_type, hyperparameters, columns=None, options=TrainingOptions()):
        block = dict(hyperparameters).pop("block", None)
        if block:
            Path(block).write_text(str(os.getpid()))
            time.sleep(120)
        return super().train(dataset, content, model_type, {k: v for k, v in hyperparameters.items() if k != "block"}, columns, options)
