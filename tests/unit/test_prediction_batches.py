"""PredictionBatch (churn/prediction_batches.py): the columns of many predictions, read back one by one."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest

from churn.prediction_batches import BatchScores, PredictionBatch
from churn.predictions import Prediction
from churn.reasons import NO_REASONS, Reason, Reasons
from churn.versions import ModelRef

NOW = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
LR = ModelRef("churn-lr", 2)
SCORES = BatchScores([0.8, 1.0000000002, -0.0001], [{"raising": [["tenure", "2", 0.5]], "lowering": []}, None, None])


def test_a_new_batch_clamps_like_prediction_new_and_reads_back_as_predictions():
    features = [{"tenure": 2.0}, {"tenure": 70.0}, {"tenure": 30.0}]
    batch = PredictionBatch.new(["c-1", "c-2", None], features, SCORES, LR, NOW, "run-1", threshold=0.3)
    made = batch.predictions()
    expected = [
        Prediction.new(c, f, p, LR, NOW, r, "run-1", prediction_id=i, threshold=0.3)
        for c, f, p, r, i in zip(
            ["c-1", "c-2", None], features, SCORES.probabilities, [Reasons((Reason("tenure", "2", 0.5),)), NO_REASONS, NO_REASONS],
            batch.prediction_ids, strict=True,
        )
    ]
    assert made == expected
    assert [p.churn_probability for p in made] == [0.8, 1.0, 0.0]
    assert len(set(batch.prediction_ids)) == 3 and len(batch) == 3


def test_a_batch_refuses_ragged_columns_and_probabilities_outside_0_1():
    good = PredictionBatch.new(["c-1", "c-2", "c-3"], [{}, {}, {}], SCORES, LR, NOW)
    with pytest.raises(ValueError):
        replace(good, probabilities=good.probabilities[:-1])
    with pytest.raises(ValueError):
        replace(good, probabilities=[1.5] * len(good))
    with pytest.raises(ValueError):
        BatchScores([0.5], [])
