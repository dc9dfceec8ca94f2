"""Outcomes and realised performance (churn/outcomes.py)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from churn.errors import InvalidRequestError
from churn.bands import Band
from churn.outcomes import Outcome, Score, read_outcomes, realised_performance, roc_auc

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_an_outcome_reads_dates_and_yes_no_and_refuses_nonsense():
    outcome = Outcome.of("c1", "yes", "2026-03-31")
    assert outcome.churned is True and outcome.observed_at == datetime(2026, 3, 31, tzinfo=timezone.utc) and outcome.day == "2026-03-31"
    assert Outcome.of("c1", 0, "2026-03-31T23:30:00-03:00").day == "2026-04-01"
    for bad in (("c1", "maybe", "2026-03-31"), ("c1", True, "31/03/2026"), ("", True, "2026-03-31")):
        with pytest.raises(InvalidRequestError):
            Outcome.of(*bad)


def test_the_csv_reports_bad_lines_and_keeps_the_good_ones():
    outcomes, rejected = read_outcomes(b"customer_id,churned,observed_at,note\nc1,1,2026-02-01,x\nc2,perhaps,2026-02-01,y\nc3,0,2026-02-02\n")
    assert [o.customer_id for o in outcomes] == ["c1"]
    assert [r.line for r in rejected] == [3, 4]
    with pytest.raises(InvalidRequestError):
        read_outcomes(b"id,left\nc1,1\n")


def test_roc_auc_counts_ties_half():
    assert roc_auc([(0.9, True), (0.1, False)]) == 1.0
    assert roc_auc([(0.5, True), (0.5, False)]) == 0.5
    assert roc_auc([(0.5, True)]) is None


def test_each_outcome_is_matched_with_the_latest_prediction_within_the_horizon():
    scores = [
        Score("c1", 0.9, T0),  # too old for the outcome at +100 days with a 90-day horizon
        Score("c1", 0.8, T0 + timedelta(days=50)),
        Score("c1", 0.1, T0 + timedelta(days=101)),  # after the outcome: without one
        Score("c2", 0.2, T0 + timedelta(days=10)),
        Score("c3", 0.6, T0 + timedelta(days=10)),  # no outcome at all
    ]
    outcomes = [Outcome("c1", True, T0 + timedelta(days=100)), Outcome("c2", False, T0 + timedelta(days=30))]
    performance = realised_performance(scores, outcomes, 90)
    assert performance.matched == 2
    assert (performance.predictions_with_outcome, performance.predictions_without_outcome) == (2, 3)
    assert performance.roc_auc == 1.0 and performance.precision == 1.0 and performance.recall == 1.0
    bands = {b.band: b for b in performance.bands}
    assert (bands[Band.VERY_HIGH].predictions, bands[Band.VERY_HIGH].churned) == (1, 1)
    assert bands[Band.LOW].churn_rate == 0.0 and bands[Band.HIGH].churn_rate is None
    assert sum(b.count for b in performance.reliability) == 2


def test_realised_auc_matches_the_usual_definition_on_random_data():
    rng = random.Random(3)
    scores, outcomes = [], []
    for i in range(300):
        p = rng.random()
        scores.append(Score(f"c{i}", p, T0))
        outcomes.append(Outcome(f"c{i}", rng.random() < p, T0 + timedelta(days=5)))
    performance = realised_performance(scores, outcomes, 30)
    pairs = [(s.probability, o.churned) for s, o in zip(scores, outcomes, strict=True)]
    assert performance.roc_auc == pytest.approx(roc_auc(pairs)) and 0.65 < performance.roc_auc < 0.95
    with pytest.raises(InvalidRequestError):
        realised_performance(scores, outcomes, 0)
