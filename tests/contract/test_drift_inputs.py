"""PredictionRepository.inputs_of (what drift reads), for every adapter."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from churn.drift import ScoredInput
from churn.predictions import Prediction
from churn.versions import ModelRef

T0 = datetime(2026, 2, 1, 9, 30, tzinfo=timezone.utc)


def test_inputs_of_a_version_are_its_newest_predictions_since_a_moment(backend):
    predictions = backend.predictions()
    ref, other = ModelRef("m", 1), ModelRef("m", 2)
    predictions.add_many([
        Prediction("old", "c1", {"tenure": 1.0}, 0.1, ref, T0 - timedelta(days=1)),
        Prediction("a", "c1", {"tenure": 2.0, "Contract": "One year"}, 0.2, ref, T0),
        Prediction("b", None, {"tenure": 3.0, "Contract": "Two year"}, 0.3, ref, T0 + timedelta(hours=1)),
        Prediction("c", "c2", {"tenure": 4.0, "Contract": None}, 0.4, ref, T0 + timedelta(hours=2)),
        Prediction("d", "c3", {"tenure": 5.0}, 0.5, other, T0 + timedelta(hours=3)),
    ])
    assert predictions.inputs_of(ref, T0, 10) == [
        ScoredInput({"tenure": 4.0, "Contract": None}, 0.4),
        ScoredInput({"tenure": 3.0, "Contract": "Two year"}, 0.3),
        ScoredInput({"tenure": 2.0, "Contract": "One year"}, 0.2),
    ]
    assert [i.probability for i in predictions.inputs_of(ref, T0, 2)] == [0.4, 0.3]
    assert predictions.inputs_of(ref, T0 + timedelta(days=1), 10) == []
    assert predictions.inputs_of(ModelRef("m", 3), T0, 10) == []
