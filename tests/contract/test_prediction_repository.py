"""PredictionRepository contract (`PREVISOES`), for every adapter."""

from __future__ import annotations

import random
from concurrent.futures import Future
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Sequence

import pytest

from adapters.memory import InMemoryPredictionRepository
from adapters.sqlite.predictions import SqlitePredictionRepository

from churn.bands import Band, ProbabilityRange
from churn.errors import StoreUnavailableError
from churn.paging import PageRequest
from churn.prediction_batches import PredictionBatch
from churn.predictions import Prediction, PredictionCursor
from churn.versions import ModelFilter, ModelRef

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)
GB1, GB2, LR1 = ModelRef("churn-gb", 1), ModelRef("churn-gb", 2), ModelRef("churn-lr", 1)
EDGES = [0.0, 0.1, 0.25, 0.3, 0.1 + 0.2, 0.5, 0.5000000000000001, 0.7499999999999999, 0.75, 0.8, 0.95, 1.0]


def prediction(
    prediction_id: str,
    probability: float,
    customer_id: str | None = "c-1",
    model: ModelRef = GB1,
    created_at: datetime = T0,
) -> Prediction:
    return Prediction(prediction_id, customer_id, {"tenure": 12.0, "contract": "one year", "partner": None}, probability, model, created_at)


def sample(n: int = 150, seed: int = 11) -> list[Prediction]:
    """Many ties on probability and on created_at, every band edge, three model versions."""
    rng = random.Random(seed)
    instants = [T0 + timedelta(seconds=s, microseconds=us) for s, us in [(0, 0), (0, 1), (5, 0), (86400, 999999)]]
    predictions = []
    for _ in range(n):
        probability = rng.choice(EDGES) if rng.random() < 0.6 else rng.random()
        predictions.append(
            prediction(
                f"{rng.getrandbits(64):016x}",
                probability,
                rng.choice(["c-1", "c-2", "c-3", None]),
                rng.choice([GB1, GB2, LR1]),
                rng.choice(instants),
            )
        )
    return predictions


def band_order(predictions: Sequence[Prediction]) -> list[Prediction]:
    return sorted(predictions, key=lambda p: (p.churn_probability, p.created_at, p.prediction_id), reverse=True)


@pytest.fixture
def repository(backend):
    return backend.predictions()


@pytest.fixture
def stored(repository) -> list[Prediction]:
    predictions = sample()
    repository.add_many(predictions[:100])
    for p in predictions[100:]:
        repository.add(p)
    return predictions


# ---------------------------------------------------------------- round trip and writes


def test_prediction_comes_back_equal_with_exact_probability(repository):
    original = prediction("p-1", 0.1 + 0.2, created_at=T0 + timedelta(microseconds=7))
    repository.add(original)
    [got] = repository.for_customer("c-1", PageRequest()).items
    assert got == original
    assert got.churn_probability == 0.30000000000000004
    assert got.created_at.utcoffset() == timedelta(0)
    assert got.features == {"tenure": 12.0, "contract": "one year", "partner": None}


def test_prediction_without_customer_is_listed_by_band_only(repository):
    repository.add(prediction("anon", 0.9, customer_id=None))
    assert list(repository.in_range(Band.VERY_HIGH.range, None, PageRequest()).items) == [prediction("anon", 0.9, customer_id=None)]
    assert repository.count_by_band(None)[Band.VERY_HIGH] == 1


def test_a_prediction_id_is_stored_once(repository):
    repository.add(prediction("p-1", 0.8))
    repository.add(prediction("p-1", 0.8))
    repository.add_many([prediction("p-1", 0.8), prediction("p-2", 0.1), prediction("p-2", 0.1)])
    assert repository.for_customer("c-1", PageRequest()).total == 2
    assert repository.count_by_band(None) == {Band.LOW: 1, Band.MEDIUM: 0, Band.HIGH: 0, Band.VERY_HIGH: 1}


class _BrokenBatch(Sequence[Prediction]):
    """A batch that fails after its first items are read."""

    def __init__(self, good: list[Prediction]) -> None:
        self._good = good

    def __len__(self) -> int:
        return len(self._good) + 1

    def __getitem__(self, index):
        if isinstance(index, slice) or index >= len(self._good) or index < 0:
            raise RuntimeError("the batch could not be read")
        return self._good[index]


def test_add_many_is_all_or_nothing(repository):
    with pytest.raises(RuntimeError):
        repository.add_many(_BrokenBatch([prediction("p-1", 0.8), prediction("p-2", 0.3)]))
    assert repository.for_customer("c-1", PageRequest()).total == 0
    assert repository.count_by_band(None) == dict.fromkeys(Band, 0)


@pytest.fixture
def submitter(repository):
    """The PredictionSubmitter side of the stores that have one (the embedded ones; MongoDB commits
    each request's prediction by itself, so /predict runs its use case in a worker thread)."""
    assert isinstance(repository, (InMemoryPredictionRepository, SqlitePredictionRepository))
    return repository


SUBMITTERS = pytest.mark.parametrize("backend", ["memory", "sqlite"], indirect=True)


@SUBMITTERS
def test_a_submitted_prediction_is_stored_when_its_future_completes(submitter):
    repository = submitter
    futures = [repository.submit(prediction(f"p-{n}", n / 10)) for n in range(10)]
    for future in futures:
        assert future.result(timeout=10) is None
    assert repository.for_customer("c-1", PageRequest()).total == 10
    assert sum(repository.count_by_band(None).values()) == 10


@SUBMITTERS
def test_a_submitted_prediction_is_stored_once_like_an_added_one(submitter):
    repository = submitter
    repository.add(prediction("p-1", 0.8))
    repository.submit(prediction("p-1", 0.8)).result(timeout=10)
    assert repository.count_by_band(None)[Band.VERY_HIGH] == 1


def test_a_submitted_batch_is_stored_all_or_nothing_when_its_future_completes(repository):
    batch = [replace(prediction(f"p-{n}", n / 10, f"c-{n}"), run_id="run-1") for n in range(10)]
    assert repository.submit_many(batch).result(timeout=10) is None
    assert sum(repository.count_by_band(None).values()) == 10 and repository.count_of_run("run-1") == 10
    assert sum(repository.count_latest_by_band(None).values()) == 10  # a run's batch keeps the latest risk too
    failed = repository.submit_many(_BrokenBatch([prediction("p-x", 0.8, "c-x")]))
    with pytest.raises(RuntimeError):
        failed.result(timeout=10)
    assert sum(repository.count_by_band(None).values()) == 10 and repository.for_customer("c-x", PageRequest()).total == 0


def test_add_many_of_nothing_is_fine(repository):
    repository.add_many([])
    assert repository.count_by_band(None) == dict.fromkeys(Band, 0)


# ---------------------------------------------------------------- customer history


def test_customer_history_is_newest_first_then_id_desc(repository, stored):
    expected = sorted((p for p in stored if p.customer_id == "c-2"), key=lambda p: (p.created_at, p.prediction_id), reverse=True)
    page = repository.for_customer("c-2", PageRequest(limit=1000))
    assert list(page.items) == expected
    assert page.total == len(expected)


def test_customer_history_pages_by_offset_with_the_full_total(repository, stored):
    expected = sorted((p for p in stored if p.customer_id == "c-1"), key=lambda p: (p.created_at, p.prediction_id), reverse=True)
    walked = []
    for offset in range(0, len(expected) + 7, 7):
        page = repository.for_customer("c-1", PageRequest(limit=7, offset=offset))
        assert (page.total, page.limit, page.offset) == (len(expected), 7, offset)
        walked.extend(page.items)
    assert walked == expected


def test_unknown_customer_has_an_empty_history(repository, stored):
    page = repository.for_customer("nobody", PageRequest())
    assert (list(page.items), page.total, page.next) == ([], 0, None)


# ---------------------------------------------------------------- band listings

RANGES = [
    Band.LOW.range,
    Band.MEDIUM.range,
    Band.HIGH.range,
    Band.VERY_HIGH.range,
    ProbabilityRange(0.0, 1.0),
    ProbabilityRange(0.25, 0.75),
    ProbabilityRange(0.3, 0.8),
    ProbabilityRange(0.30000000000000004, 0.5000000000000001),
]
FILTERS = [None, ModelFilter("churn-gb"), ModelFilter("churn-gb", 2), ModelFilter("churn-lr", 1), ModelFilter("unknown")]


def _expected(stored: list[Prediction], probabilities: ProbabilityRange, model: ModelFilter | None) -> list[Prediction]:
    return band_order([p for p in stored if probabilities.contains(p.churn_probability) and (model is None or model.matches(p.model))])


@pytest.mark.parametrize("probabilities", RANGES, ids=lambda r: f"{r.minimum}-{r.maximum}")
def test_range_lists_highest_then_newest_then_id_desc_with_its_total(repository, stored, probabilities):
    expected = _expected(stored, probabilities, None)
    page = repository.in_range(probabilities, None, PageRequest(limit=1000))
    assert list(page.items) == expected
    assert page.total == len(expected)
    assert page.next is None


@pytest.mark.parametrize("model", FILTERS, ids=lambda f: "all" if f is None else f"{f.name}:{f.version}")
def test_model_filter_narrows_by_name_or_by_name_and_version(repository, stored, model):
    for probabilities in (Band.VERY_HIGH.range, ProbabilityRange(0.0, 1.0), ProbabilityRange(0.3, 0.8)):
        expected = _expected(stored, probabilities, model)
        page = repository.in_range(probabilities, model, PageRequest(limit=1000))
        assert list(page.items) == expected
        assert page.total == len(expected)


def test_band_edges_are_half_open_and_the_top_band_includes_one(repository):
    repository.add_many([prediction("at-0.75", 0.75), prediction("at-1", 1.0), prediction("below", 0.7499999999999999), prediction("at-0", 0.0)])
    assert [p.prediction_id for p in repository.in_range(Band.HIGH.range, None, PageRequest()).items] == ["below"]
    assert [p.prediction_id for p in repository.in_range(Band.VERY_HIGH.range, None, PageRequest()).items] == ["at-1", "at-0.75"]
    assert [p.prediction_id for p in repository.in_range(Band.LOW.range, None, PageRequest()).items] == ["at-0"]
    assert repository.in_range(ProbabilityRange(0.5, 0.75), None, PageRequest()).total == 1


def _walk_by_cursor(repository, probabilities, model, limit):
    pages = [repository.in_range(probabilities, model, PageRequest(limit=limit))]
    while pages[-1].next is not None:
        pages.append(repository.in_range(probabilities, model, PageRequest(limit=limit, after=PredictionCursor.decode(pages[-1].next))))
        assert len(pages) < 1000
    return pages


def _walk_by_offset(repository, probabilities, model, limit, total):
    return [repository.in_range(probabilities, model, PageRequest(limit=limit, offset=o)) for o in range(0, max(total, 1), limit)]


@pytest.mark.parametrize("limit", [1, 4, 7, 1000])
@pytest.mark.parametrize(
    "probabilities, model",
    [
        (ProbabilityRange(0.0, 1.0), None),
        (Band.VERY_HIGH.range, None),
        (ProbabilityRange(0.3, 0.8), ModelFilter("churn-gb")),
        (Band.MEDIUM.range, ModelFilter("churn-gb", 2)),
    ],
    ids=["all", "75-100", "30-80 gb", "25-50 gb:2"],
)
def test_walking_by_cursor_and_by_offset_visit_the_same_items(repository, stored, probabilities, model, limit):
    expected = _expected(stored, probabilities, model)
    by_cursor = _walk_by_cursor(repository, probabilities, model, limit)
    by_offset = _walk_by_offset(repository, probabilities, model, limit, len(expected))
    assert [p for page in by_cursor for p in page.items] == expected
    assert [p for page in by_offset for p in page.items] == expected
    assert [list(page.items) for page in by_cursor] == [list(page.items) for page in by_offset]
    for cursor_page, offset_page in zip(by_cursor, by_offset, strict=True):
        assert cursor_page.total == offset_page.total == len(expected)
        assert cursor_page.next == offset_page.next
    for page in by_cursor[:-1]:
        assert page.next == PredictionCursor.after(page.items[-1]).encode()
    assert by_cursor[-1].next is None


def test_paging_through_one_millisecond_has_no_duplicates_or_gaps(repository):
    """One probability, one millisecond (all a BSON date holds), microseconds apart or equal: every
    cursor page of the band listing and of the latest risk continues exactly after its last item."""
    millisecond = T0.replace(microsecond=123_000)
    offsets = [0, 0, 1, 1, 2, 499, 500, 500, 998, 999, 999, 999]
    made = [prediction(f"p-{i:02d}", 0.6, f"c-{i:02d}", created_at=millisecond + timedelta(microseconds=us)) for i, us in enumerate(offsets)]
    repository.add_many(made[:6])
    for p in made[6:]:
        repository.add(p)
    for limit in (1, 2, 3, 5):
        assert [p for page in _walk_by_cursor(repository, ProbabilityRange(0.0, 1.0), None, limit) for p in page.items] == band_order(made)
        pages = [repository.latest_in_range(Band.HIGH.range, None, PageRequest(limit=limit))]
        while pages[-1].next is not None:
            pages.append(repository.latest_in_range(Band.HIGH.range, None, PageRequest(limit=limit, after=PredictionCursor.decode(pages[-1].next))))
        assert [p for page in pages for p in page.items] == band_order(made)


def test_cursor_continues_right_after_its_prediction_even_when_it_is_gone_from_the_range(repository, stored):
    everything = _expected(stored, ProbabilityRange(0.0, 1.0), None)
    pivot = everything[40]
    page = repository.in_range(Band.VERY_HIGH.range, None, PageRequest(limit=1000, after=PredictionCursor.after(pivot)))
    assert list(page.items) == [p for p in everything[41:] if Band.VERY_HIGH.range.contains(p.churn_probability)]


def test_cursor_with_other_utc_offset_continues_at_the_same_instant(repository, stored):
    everything = _expected(stored, ProbabilityRange(0.0, 1.0), None)
    pivot = everything[10]
    shifted = PredictionCursor(pivot.churn_probability, pivot.created_at.astimezone(timezone(timedelta(hours=-3))), pivot.prediction_id)
    page = repository.in_range(ProbabilityRange(0.0, 1.0), None, PageRequest(limit=5, after=PredictionCursor.decode(shifted.encode())))
    assert list(page.items) == everything[11:16]


def test_page_past_the_end_is_empty(repository, stored):
    page = repository.in_range(ProbabilityRange(0.0, 1.0), None, PageRequest(limit=10, offset=10_000))
    assert (list(page.items), page.total, page.next) == ([], len(stored), None)


def test_empty_store_lists_nothing(repository):
    page = repository.in_range(Band.VERY_HIGH.range, None, PageRequest())
    assert (list(page.items), page.total, page.next) == ([], 0, None)


# ---------------------------------------------------------------- counts


@pytest.mark.parametrize("model", FILTERS, ids=lambda f: "all" if f is None else f"{f.name}:{f.version}")
def test_count_by_band_has_every_band(repository, stored, model):
    expected = dict.fromkeys(Band, 0)
    for p in stored:
        if model is None or model.matches(p.model):
            expected[p.band] += 1
    counts = repository.count_by_band(model)
    assert counts == expected


def test_counts_are_zero_on_an_empty_store(repository):
    assert repository.count_by_band(None) == dict.fromkeys(Band, 0)
    assert repository.count_by_band(ModelFilter("churn-gb", 1)) == dict.fromkeys(Band, 0)


def test_counts_agree_with_range_totals(repository, stored):
    counts = repository.count_by_band(None)
    for band in Band:
        assert repository.in_range(band.range, None, PageRequest(limit=1)).total == counts[band]


# ---------------------------------------------------------------- restart


def test_predictions_and_counts_survive_a_restart(backend):
    predictions = sample(40)
    backend.predictions().add_many(predictions)
    reopened = backend.restarted().predictions()
    assert list(reopened.in_range(ProbabilityRange(0.0, 1.0), None, PageRequest(limit=1000)).items) == band_order(predictions)
    expected = dict.fromkeys(Band, 0)
    for p in predictions:
        expected[p.band] += 1
    assert reopened.count_by_band(None) == expected
    reopened.add(prediction("late", 0.99, created_at=T0 + timedelta(days=9)))
    assert reopened.count_by_band(None)[Band.VERY_HIGH] == expected[Band.VERY_HIGH] + 1


# ---------------------------------------------------------------- activity per day


def test_counts_by_day_are_per_utc_day_from_the_given_instant(repository):
    late = datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=timezone.utc)
    repository.add_many([
        prediction("d0", 0.1, created_at=T0 - timedelta(days=3)),
        prediction("d1", 0.2, created_at=T0),
        prediction("d2", 0.9, created_at=late),
        prediction("d3", 0.4, created_at=late + timedelta(microseconds=1)),
        prediction("d4", 0.6, created_at=T0 + timedelta(days=2)),
    ])
    counts = repository.count_by_day(T0 - timedelta(days=1))
    assert counts == {late.date(): 2, (late + timedelta(days=1)).date(): 1, (T0 + timedelta(days=2)).date(): 1}
    assert repository.count_by_day(T0 + timedelta(days=10)) == {}


def test_a_prediction_keeps_the_threshold_of_the_version_that_made_it(repository):
    """`churn` read back from the history is the version's decision, not one at 0.5."""
    kept = Prediction("p-t", "c-1", {"tenure": 3.0}, 0.4, GB1, T0, threshold=0.3)
    repository.add(kept)
    [again] = repository.for_customer("c-1", PageRequest()).items
    assert again == kept and again.threshold == 0.3 and again.churn


def a_batch(run_id: str | None = "run-1", n: int = 10, created_at: datetime = T0) -> PredictionBatch:
    reasons = [{"raising": [["tenure", "12", 0.4]], "lowering": [["contract", "one year", -0.2]]}, None]
    return PredictionBatch(
        LR1, created_at, run_id, 0.4, [f"b-{i}" for i in range(n)], [f"c-{i}" if i % 3 else None for i in range(n)],
        [{"tenure": float(i), "contract": "one year", "partner": None} for i in range(n)], [i / n for i in range(n)],
        [reasons[i % 2] for i in range(n)],
    )


def test_a_batch_is_stored_as_its_predictions_would_be(repository):
    batch = a_batch()
    repository.add_batch(batch)
    for p in batch.predictions():
        if p.customer_id is not None:
            assert repository.for_customer(p.customer_id, PageRequest()).items == [p]
    assert band_order(batch.predictions()) == repository.in_range(ProbabilityRange(0.0, 1.0), None, PageRequest(limit=100)).items
    assert repository.count_of_run("run-1") == 10 and repository.last_customer_of_run("run-1") == "c-8"
    latest = repository.latest_in_range(ProbabilityRange(0.0, 1.0), None, PageRequest(limit=100)).items
    assert latest == band_order([p for p in batch.predictions() if p.customer_id is not None])
    assert repository.count_latest_by_band(ModelFilter(LR1.name, LR1.version)) == repository.count_latest_by_band(None)


def test_a_submitted_batch_of_columns_is_stored_when_its_future_completes_and_keeps_the_latest_risk(repository):
    repository.add_many([replace(prediction("old", 0.9, "c-1", LR1), created_at=T0 - timedelta(days=1))])
    assert repository.submit_batch(a_batch(run_id=None)).result(timeout=10) is None
    assert sum(repository.count_by_band(None).values()) == 11 and repository.count_of_run("run-1") == 0
    [latest_c1] = [p for p in repository.latest_in_range(ProbabilityRange(0.0, 1.0), None, PageRequest(limit=100)).items if p.customer_id == "c-1"]
    assert latest_c1.prediction_id == "b-1"  # the newer one, from the batch
    repository.add_batch(a_batch(run_id=None))  # stored once: the same predictions again are ignored
    assert sum(repository.count_by_band(None).values()) == 11
    repository.add_batch(a_batch(n=0))
    assert sum(repository.count_by_band(None).values()) == 11



def test_a_batch_chained_to_a_failed_one_is_not_written_and_fails_with_its_error(repository):
    failed: Future[None] = Future()
    failed.set_exception(StoreUnavailableError("disk I/O error"))
    refused = repository.submit_batch(a_batch(), after=failed)
    with pytest.raises(StoreUnavailableError, match="disk I/O error"):
        refused.result(timeout=10)
    chained = repository.submit_batch(replace(a_batch(), prediction_ids=[f"d-{i}" for i in range(10)]), after=refused)
    with pytest.raises(StoreUnavailableError):
        chained.result(timeout=10)
    assert repository.count_of_run("run-1") == 0 and sum(repository.count_by_band(None).values()) == 0


def test_batches_chained_one_after_another_are_all_stored_in_order(repository):
    last = None
    for k in range(5):
        batch = replace(a_batch(run_id="run-2"), prediction_ids=[f"k{k}-{i}" for i in range(10)], customer_ids=[f"c-{k}{i}" for i in range(10)])
        last = repository.submit_batch(batch, after=last)
    assert last.result(timeout=10) is None
    assert repository.count_of_run("run-2") == 50 and repository.last_customer_of_run("run-2") == "c-49"
