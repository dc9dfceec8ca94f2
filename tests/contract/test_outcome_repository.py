"""OutcomeRepository contract, and PredictionRepository.scores_of, for every adapter."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from churn.predictions import Prediction
from churn.versions import ModelRef
from churn.outcomes import Outcome, Score

T0 = datetime(2026, 2, 1, 9, 30, tzinfo=timezone.utc)


def test_outcomes_are_kept_once_per_customer_and_day(backend):
    outcomes = backend.outcomes()
    first = outcomes.add_many([Outcome("c1", True, T0), Outcome("c2", False, T0)])
    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
    again = outcomes.add_many([Outcome("c1", True, T0), Outcome("c2", True, T0 + timedelta(hours=1)), Outcome("c2", False, T0 + timedelta(days=1))])
    assert (again.inserted, again.updated, again.unchanged) == (1, 1, 1)
    assert outcomes.count() == 3
    assert sorted((o.customer_id, o.day, o.churned) for o in outcomes.list_all()) == [
        ("c1", "2026-02-01", True), ("c2", "2026-02-01", True), ("c2", "2026-02-02", False),
    ]
    assert Outcome("c2", True, T0 + timedelta(hours=1)) in outcomes.list_all()


def test_scores_of_a_version_are_its_predictions_naming_a_customer(backend):
    predictions = backend.predictions()
    ref, other = ModelRef("m", 1), ModelRef("m", 2)
    predictions.add_many([
        Prediction("a", "c1", {}, 0.7, ref, T0),
        Prediction("b", None, {}, 0.2, ref, T0),
        Prediction("c", "c2", {}, 0.4, other, T0),
    ])
    assert predictions.scores_of(ref) == [Score("c1", 0.7, T0)]
    assert predictions.scores_of(ModelRef("m", 3)) == []
