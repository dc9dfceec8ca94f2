"""PredictionRepository's latest-risk promises (each customer's latest prediction, its band counts,
scoring-run lookups), for every adapter."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from churn.bands import Band, ProbabilityRange
from churn.paging import PageRequest
from churn.predictions import Prediction, PredictionCursor
from churn.versions import ModelFilter
from churn.reasons import Reason, Reasons
from tests.contract.test_prediction_repository import GB1, GB2, LR1, T0, band_order, prediction

ALL = ProbabilityRange(0.0, 1.0)


@pytest.fixture
def repository(backend):
    return backend.predictions()


def latest_of(predictions: list[Prediction]) -> list[Prediction]:
    latest: dict[str, Prediction] = {}
    for p in predictions:
        if p.customer_id is not None and (p.customer_id not in latest or p.is_newer_than(latest[p.customer_id])):
            latest[p.customer_id] = p
    return band_order(latest.values())


def history(n: int = 120, seed: int = 5) -> list[Prediction]:
    """Twenty customers scored several times, out of time order, some at the same instant."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        out.append(
            prediction(
                f"{rng.getrandbits(64):016x}",
                rng.choice([0.1, 0.3, 0.6, 0.8, rng.random()]),
                rng.choice([f"c-{k:02d}" for k in range(20)] + [None]),
                rng.choice([GB1, GB2, LR1]),
                T0 + timedelta(seconds=rng.randrange(5)),
            )
        )
    return out


def test_the_latest_prediction_of_each_customer_is_listed_once_highest_first(repository):
    predictions = history()
    for p in predictions[:40]:
        repository.add(p)
    repository.add_many(predictions[40:])
    page = repository.latest_in_range(ALL, None, PageRequest(limit=1000))
    assert [p.prediction_id for p in page.items] == [p.prediction_id for p in latest_of(predictions)]
    assert page.total == len(latest_of(predictions))


def test_an_older_prediction_stored_later_does_not_replace_the_latest(repository):
    repository.add(prediction("b", 0.9, "c-1", created_at=T0 + timedelta(seconds=10)))
    repository.add(prediction("a", 0.1, "c-1", created_at=T0))
    [latest] = repository.latest_in_range(ALL, None, PageRequest()).items
    assert latest.prediction_id == "b"
    assert repository.count_latest_by_band(None)[Band.VERY_HIGH] == 1
    assert repository.count_latest_by_band(None)[Band.LOW] == 0


def test_a_newer_prediction_moves_the_customer_to_its_band(repository):
    repository.add(prediction("a", 0.9, "c-1", created_at=T0))
    repository.add(prediction("b", 0.1, "c-1", model=LR1, created_at=T0 + timedelta(seconds=1)))
    counts = repository.count_latest_by_band(None)
    assert counts == {Band.LOW: 1, Band.MEDIUM: 0, Band.HIGH: 0, Band.VERY_HIGH: 0}
    assert repository.count_latest_by_band(ModelFilter("churn-gb")) == dict.fromkeys(Band, 0)
    assert repository.latest_in_range(Band.VERY_HIGH.range, None, PageRequest()).items == []
    assert [p.prediction_id for p in repository.latest_in_range(Band.LOW.range, ModelFilter("churn-lr", 1), PageRequest()).items] == ["b"]


def test_latest_pages_by_cursor_band_and_model_filters(repository):
    predictions = history(200, seed=9)
    repository.add_many(predictions)
    for probabilities in (Band.VERY_HIGH.range, ProbabilityRange(0.2, 0.7), ALL):
        for model in (None, ModelFilter("churn-gb"), ModelFilter("churn-gb", 2)):
            expected = [
                p for p in latest_of(predictions) if probabilities.contains(p.churn_probability) and (model is None or model.matches(p.model))
            ]
            seen, after = [], None
            while True:
                page = repository.latest_in_range(probabilities, model, PageRequest(limit=3, after=after))
                assert page.total == len(expected)
                seen.extend(page.items)
                if page.next is None:
                    break
                after = PredictionCursor.decode(page.next)
            assert [p.prediction_id for p in seen] == [p.prediction_id for p in expected]
            counts = repository.count_latest_by_band(model)
            if probabilities == ALL:
                assert sum(counts.values()) == len(expected)


def test_reasons_and_run_id_come_back_with_the_prediction(repository):
    reasons = Reasons((Reason("Contract", "Month-to-month", 0.61), Reason("tenure", "2", 0.4)), (Reason("=cmd", "@x", -0.2),))
    p = Prediction("r-1", "c-9", {"tenure": 2.0}, 0.83, GB1, T0, reasons, "run-1")
    repository.add_many([p])
    [stored] = repository.latest_in_range(ALL, None, PageRequest()).items
    assert stored == p
    assert repository.for_customer("c-9", PageRequest()).items == [p]


def test_a_run_knows_its_last_customer_and_its_count(repository):
    assert repository.last_customer_of_run("run-1") is None
    assert repository.count_of_run("run-1") == 0
    batch = [Prediction(f"p{i}", f"c-{i:03d}", {}, 0.5, GB1, T0, run_id="run-1") for i in (3, 1, 2)]
    repository.add_many(batch)
    repository.add(prediction("other", 0.2, "c-999"))
    assert repository.last_customer_of_run("run-1") == "c-003"
    assert repository.count_of_run("run-1") == 3
    assert repository.count_of_run("run-2") == 0


def test_the_latest_risk_outlives_a_restart(backend):
    backend.predictions().add(prediction("a", 0.8, "c-1"))
    again = backend.restarted().predictions()
    assert [p.prediction_id for p in again.latest_in_range(ALL, None, PageRequest()).items] == ["a"]
    assert again.count_latest_by_band(None)[Band.VERY_HIGH] == 1


def test_a_scoring_runs_batches_are_counted_and_become_latest_like_any_prediction(repository):
    """Run rows (run_id set) take the repository's batch path on SQLite: the promises are the same."""
    mixed = history(90, seed=9)
    runs = [
        Prediction(f"run-{i}", p.customer_id, {}, p.churn_probability, p.model, p.created_at + timedelta(seconds=i % 3), run_id=f"run-{i % 2}")
        for i, p in enumerate(history(60, seed=4))
    ]
    repository.add_many(mixed[:30])
    repository.add_many(runs[:30])
    for p in mixed[30:60]:
        repository.add(p)
    repository.add_many(runs[30:] + mixed[60:])
    repository.add(Prediction("run-single", "c-000", {}, 0.99, LR1, T0 - timedelta(days=1), run_id="run-9"))  # older: not latest
    everything = [*mixed, *runs, Prediction("run-single", "c-000", {}, 0.99, LR1, T0 - timedelta(days=1), run_id="run-9")]
    page = repository.latest_in_range(ALL, None, PageRequest(limit=1000))
    assert [p.prediction_id for p in page.items] == [p.prediction_id for p in latest_of(everything)]
    expected_latest = {band: sum(1 for p in latest_of(everything) if p.band is band) for band in Band}
    assert repository.count_latest_by_band(None) == expected_latest
    assert repository.count_by_band(None) == {band: sum(1 for p in everything if p.band is band) for band in Band}
    assert repository.count_by_band(ModelFilter(GB1.name, GB1.version)) == {
        band: sum(1 for p in everything if p.band is band and p.model == GB1) for band in Band
    }
    assert repository.count_of_run("run-1") == 30
