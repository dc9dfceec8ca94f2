"""In-memory adapters for every store port: the unit tests' fakes and `CHURN_STORE=memory`.

First class, not mocks: the contract suites hold them to the same promises as SQLite and MongoDB.
Each guards its state with a lock because FastAPI runs sync routes in a thread pool.
"""

from __future__ import annotations

import bisect
import builtins
import threading
from collections import deque
from concurrent.futures import Future
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from typing import Callable, Mapping, Sequence

from adapters.futures import settled
from churn.errors import (
    CustomerNotFoundError,
    DatasetExistsError,
    DatasetNotFoundError,
    JobNotFoundError,
    ModelNotFoundError,
    ScoringRunNotFoundError,
)
from churn.bands import Band, ProbabilityRange
from churn.customers import Customer, ImportReport, UpsertPlan
from churn.datasets import Dataset
from churn.paging import Page, PageRequest
from churn.prediction_batches import PredictionBatch
from churn.predictions import Prediction, PredictionCursor
from churn.training_jobs import INTERRUPTED, TrainingJob
from churn.versions import ModelFilter, ModelRecord, ModelRef
from churn.ports import (
    PredictionSubmitter,
    Clock,
    CustomerRepository,
    DatasetStore,
    JobRunner,
    JobStore,
    ModelRecordRepository,
    OutcomeRepository,
    PredictionRepository,
    ScoringRunStore,
)
from churn.drift import ScoredInput
from churn.outcomes import Outcome, OutcomeReport, Score
from churn.scoring_runs import ScoringRun


class InMemoryDatasetStore(DatasetStore):
    def __init__(self) -> None:
        self._items: dict[str, tuple[Dataset, bytes]] = {}
        self._lock = threading.Lock()

    def staging(self, content: bytes) -> AbstractContextManager[None]:
        return nullcontext()  # keeping the bytes is a reference: nothing to start early

    def add(self, dataset: Dataset, content: bytes) -> None:
        with self._lock:
            if dataset.name in self._items:
                raise DatasetExistsError(f"data set {dataset.name!r} already exists; choose another name")
            self._items[dataset.name] = (dataset, bytes(content))

    def get(self, name: str) -> Dataset:
        try:
            return self._items[name][0]
        except KeyError:
            raise DatasetNotFoundError(f"data set {name!r} not found; upload it with POST /datasets") from None

    def content(self, name: str) -> bytes:
        try:
            return self._items[name][1]
        except KeyError:
            raise DatasetNotFoundError(f"data set {name!r} not found; upload it with POST /datasets") from None

    def list(self) -> list[Dataset]:
        with self._lock:
            return sorted((d for d, _ in self._items.values()), key=lambda d: (d.created_at, d.name))

    def remove(self, name: str) -> None:
        with self._lock:
            if self._items.pop(name, None) is None:
                raise DatasetNotFoundError(f"data set {name!r} not found; upload it with POST /datasets")


class InMemoryJobStore(JobStore):
    def __init__(self) -> None:
        self._jobs: dict[str, TrainingJob] = {}
        self._lock = threading.Lock()

    def save(self, job: TrainingJob) -> None:
        with self._lock:
            self._jobs[job.job_id] = job

    def get(self, job_id: str) -> TrainingJob:
        try:
            return self._jobs[job_id]
        except KeyError:
            raise JobNotFoundError(f"training job {job_id!r} not found") from None

    def unfinished(self) -> list[TrainingJob]:
        with self._lock:
            return sorted((j for j in self._jobs.values() if not j.status.finished), key=lambda j: (j.created_at, j.job_id))

    def heartbeat(self, owner: str, now: datetime) -> int:
        with self._lock:
            mine = [j for j in self._jobs.values() if j.owner == owner and not j.status.finished]
            for job in mine:
                self._jobs[job.job_id] = replace(job, heartbeat_at=now)
            return len(mine)

    def interrupt_stale(self, before: datetime, now: datetime) -> list[str]:
        with self._lock:
            stale = sorted(
                (j for j in self._jobs.values() if not j.status.finished and j.last_sign_of_life < before),
                key=lambda j: (j.created_at, j.job_id),
            )
            for job in stale:
                self._jobs[job.job_id] = job.failed(INTERRUPTED, now)
            return [job.job_id for job in stale]


class InMemoryModelRecordRepository(ModelRecordRepository):
    def __init__(self) -> None:
        self._records: dict[ModelRef, ModelRecord] = {}
        self._active: ModelRef | None = None
        self._lock = threading.Lock()

    def mark_active(self, ref: ModelRef) -> None:
        self._active = ref

    def last_active(self) -> ModelRef | None:
        return self._active

    def save(self, record: ModelRecord) -> None:
        with self._lock:
            self._records[record.ref] = record

    def get(self, ref: ModelRef) -> ModelRecord:
        try:
            return self._records[ref]
        except KeyError:
            raise ModelNotFoundError(f"model {ref} not found; GET /models lists the trained versions") from None

    def list(self) -> list[ModelRecord]:
        with self._lock:
            records = list(self._records.values())
        records.sort(key=lambda r: (r.ref.name, -r.ref.version))
        records.sort(key=lambda r: r.summary.finished_at, reverse=True)
        return records


class InMemoryCustomerRepository(CustomerRepository):
    def __init__(self) -> None:
        self._customers: dict[str, Customer] = {}
        self._lock = threading.Lock()

    def upsert_many(self, customers: Sequence[Customer]) -> ImportReport:
        with self._lock:
            plan = UpsertPlan.of(self._stored(customers), customers)
            self._customers.update(plan.inserts)
            self._customers.update(plan.replaces)
        return plan.report

    def _stored(self, customers: Sequence[Customer]) -> dict[str, Mapping]:
        return {c.customer_id: self._customers[c.customer_id].attributes for c in customers if c.customer_id in self._customers}

    def get(self, customer_id: str) -> Customer:
        try:
            return self._customers[customer_id]
        except KeyError:
            raise CustomerNotFoundError(f"customer {customer_id!r} not found") from None

    def exists(self, customer_id: str) -> bool:
        return customer_id in self._customers

    def list(self, page: PageRequest) -> Page[Customer]:
        with self._lock:
            ids = sorted(self._customers)
            items = [self._customers[i] for i in ids[page.offset : page.offset + page.limit]]
        return Page(items, len(ids), page.limit, page.offset)

    def count(self) -> int:
        return len(self._customers)

    def batch_after(self, customer_id: str | None, limit: int) -> builtins.list[Customer]:  # `list` is a method here
        with self._lock:
            ids = sorted(self._customers)
            start = 0 if customer_id is None else bisect.bisect_right(ids, customer_id)
            return [self._customers[i] for i in ids[start : start + limit]]

    def batch_of(self, customer_ids: Sequence[str]) -> builtins.list[Customer]:
        with self._lock:
            return [self._customers[i] for i in sorted(set(customer_ids)) if i in self._customers]

    def ids_every(self, step: int) -> builtins.list[str]:
        with self._lock:
            return sorted(self._customers)[step - 1 :: step]


def _band_key(p: Prediction) -> tuple[float, datetime, str]:
    return (p.churn_probability, p.created_at, p.prediction_id)


class InMemoryPredictionRepository(PredictionRepository, PredictionSubmitter):
    """Keeps predictions sorted by (probability, created_at, id) as they are added (bisect.insort);
    a page then filters that whole order (`_ranged`: the fake favours plain code over speed), with no sort per request."""

    def __init__(self) -> None:
        self._by_id: dict[str, Prediction] = {}
        self._sorted: list[tuple[tuple[float, datetime, str], Prediction]] = []
        self._by_customer: dict[str, list[Prediction]] = {}
        self._latest: dict[str, Prediction] = {}
        self._latest_sorted: list[tuple[tuple[float, datetime, str], Prediction]] = []
        self._lock = threading.Lock()

    def add(self, prediction: Prediction) -> None:
        self.add_many([prediction])

    def submit(self, prediction: Prediction) -> Future[None]:
        """Stored at once: the future is already complete (or failed) when returned."""
        return settled(self.add, prediction)

    def submit_many(self, predictions: Sequence[Prediction]) -> Future[None]:
        """Stored at once, like submit."""
        return settled(self.add_many, predictions)

    def add_batch(self, batch: PredictionBatch) -> None:
        """Its predictions, one by one: the fake keeps Prediction values."""
        self.add_many(batch.predictions())

    def submit_batch(self, batch: PredictionBatch, after: Future[None] | None = None) -> Future[None]:
        """Stored at once, like submit."""
        return settled(self.add_batch, batch, after=after)

    def add_many(self, predictions: Sequence[Prediction]) -> None:
        """All or nothing: the batch is read in full before anything is stored."""
        batch = list(predictions)
        with self._lock:
            for p in batch:
                if p.prediction_id in self._by_id:
                    continue
                self._by_id[p.prediction_id] = p
                bisect.insort(self._sorted, (_band_key(p), p), key=lambda item: item[0])
                if p.customer_id is not None:
                    self._by_customer.setdefault(p.customer_id, []).append(p)
                    self._keep_latest(p.customer_id, p)

    def _keep_latest(self, customer_id: str, p: Prediction) -> None:
        current = self._latest.get(customer_id)
        if current is not None:
            if not p.is_newer_than(current):
                return
            del self._latest_sorted[bisect.bisect_left(self._latest_sorted, _band_key(current), key=lambda item: item[0])]
        self._latest[customer_id] = p
        bisect.insort(self._latest_sorted, (_band_key(p), p), key=lambda item: item[0])

    def for_customer(self, customer_id: str, page: PageRequest) -> Page[Prediction]:
        with self._lock:
            history = sorted(self._by_customer.get(customer_id, []), key=lambda p: (p.created_at, p.prediction_id), reverse=True)
        return Page(history[page.offset : page.offset + page.limit], len(history), page.limit, page.offset)

    def in_range(self, probabilities: ProbabilityRange, model: ModelFilter | None, page: PageRequest) -> Page[Prediction]:
        with self._lock:
            return _ranged(self._sorted, probabilities, model, page)

    def latest_in_range(self, probabilities: ProbabilityRange, model: ModelFilter | None, page: PageRequest) -> Page[Prediction]:
        with self._lock:
            return _ranged(self._latest_sorted, probabilities, model, page)

    def count_latest_by_band(self, model: ModelFilter | None) -> dict[Band, int]:
        counts = dict.fromkeys(Band, 0)
        with self._lock:
            for p in self._latest.values():
                if model is None or model.matches(p.model):
                    counts[p.band] += 1
        return counts

    def last_customer_of_run(self, run_id: str) -> str | None:
        with self._lock:
            return max((p.customer_id for p in self._by_id.values() if p.run_id == run_id and p.customer_id is not None), default=None)

    def count_of_run(self, run_id: str) -> int:
        with self._lock:
            return sum(1 for p in self._by_id.values() if p.run_id == run_id)

    def run_rows_between(self, run_id: str, after: str | None, upto: str | None) -> tuple[int, str | None]:
        with self._lock:
            ids = [
                p.customer_id
                for p in self._by_id.values()
                if p.run_id == run_id and p.customer_id is not None
                and (after is None or p.customer_id > after) and (upto is None or p.customer_id <= upto)
            ]
        return len(ids), max(ids, default=None)

    def scores_of(self, model: ModelRef) -> list[Score]:
        with self._lock:
            return [Score(p.customer_id, p.churn_probability, p.created_at) for p in self._by_id.values() if p.model == model and p.customer_id is not None]

    def inputs_of(self, model: ModelRef, since: datetime, limit: int) -> list[ScoredInput]:
        with self._lock:
            recent = [p for p in self._by_id.values() if p.model == model and p.created_at >= since]
        recent.sort(key=lambda p: (p.created_at, p.prediction_id), reverse=True)
        return [ScoredInput(p.features, p.churn_probability) for p in recent[:limit]]

    def count_by_band(self, model: ModelFilter | None) -> dict[Band, int]:
        counts = dict.fromkeys(Band, 0)
        with self._lock:
            for p in self._by_id.values():
                if model is None or model.matches(p.model):
                    counts[p.band] += 1
        return counts

    def count_by_day(self, since: datetime) -> dict[date, int]:
        counts: dict[date, int] = {}
        with self._lock:
            for p in self._by_id.values():
                if p.created_at >= since:
                    day = p.created_at.astimezone(timezone.utc).date()
                    counts[day] = counts.get(day, 0) + 1
        return counts


def _ranged(ordered: list, probabilities: ProbabilityRange, model: ModelFilter | None, page: PageRequest) -> Page[Prediction]:
    """Band order out of a list kept sorted by _band_key."""
    matching = [
        p for _, p in reversed(ordered) if probabilities.contains(p.churn_probability) and (model is None or model.matches(p.model))
    ]
    total = len(matching)
    if page.after is not None:
        after = page.after
        start = next((i for i, p in enumerate(matching) if after.comes_before(p)), total)
    else:
        start = page.offset
    items = matching[start : start + page.limit]
    more = start + page.limit < total
    return Page(items, total, page.limit, page.offset, PredictionCursor.after(items[-1]).encode() if items and more else None)


class InMemoryOutcomeRepository(OutcomeRepository):
    def __init__(self) -> None:
        self._outcomes: dict[tuple[str, str], Outcome] = {}
        self._lock = threading.Lock()

    def add_many(self, outcomes: Sequence[Outcome]) -> OutcomeReport:
        inserted = updated = unchanged = 0
        with self._lock:
            for outcome in outcomes:
                key = (outcome.customer_id, outcome.day)
                old = self._outcomes.get(key)
                if old is None:
                    inserted += 1
                elif old == outcome:
                    unchanged += 1
                    continue
                else:
                    updated += 1
                self._outcomes[key] = outcome
        return OutcomeReport(inserted, updated, unchanged)

    def list_all(self) -> list[Outcome]:
        with self._lock:
            return list(self._outcomes.values())

    def count(self) -> int:
        return len(self._outcomes)


class InMemoryScoringRunStore(ScoringRunStore):
    def __init__(self) -> None:
        self._runs: dict[str, ScoringRun] = {}
        self._lock = threading.Lock()

    def save(self, run: ScoringRun) -> None:
        with self._lock:
            self._runs[run.run_id] = run

    def get(self, run_id: str) -> ScoringRun:
        try:
            return self._runs[run_id]
        except KeyError:
            raise ScoringRunNotFoundError(f"scoring run {run_id!r} not found") from None

    def claim(self, run: ScoringRun, expected: ScoringRun) -> bool:
        with self._lock:
            stored = self._runs.get(expected.run_id)
            if stored is None or (stored.status, stored.heartbeat_at, stored.revision) != (expected.status, expected.heartbeat_at, expected.revision):
                return False
            self._runs[run.run_id] = run
            return True

    def list(self, limit: int) -> list[ScoringRun]:
        with self._lock:
            return sorted(self._runs.values(), key=lambda r: (r.created_at, r.run_id), reverse=True)[:limit]


class InlineJobRunner(JobRunner):
    """Runs the work at once, in the caller's thread: deterministic for tests."""

    def __init__(self) -> None:
        self.ran: list[str] = []

    def submit(self, job_id: str, work: Callable[[], object]) -> None:
        self.ran.append(job_id)
        work()

    def position(self, job_id: str) -> int | None:
        return None

    def shutdown(self, timeout: float = 1.0) -> None:
        """Nothing runs in the background."""


class DeferredJobRunner(JobRunner):
    """Queues work until `run_next()`/`run_all()`: lets tests observe queued jobs."""

    def __init__(self) -> None:
        self._queue: deque[tuple[str, Callable[[], object]]] = deque()

    def submit(self, job_id: str, work: Callable[[], object]) -> None:
        self._queue.append((job_id, work))

    def shutdown(self, timeout: float = 1.0) -> None:
        """Queued work is dropped, as a stopped process drops it."""
        self._queue.clear()

    def position(self, job_id: str) -> int | None:
        for index, (queued, _) in enumerate(self._queue, start=1):
            if queued == job_id:
                return index
        return None

    def run_next(self) -> None:
        _, work = self._queue.popleft()
        work()

    def run_all(self) -> None:
        while self._queue:
            self.run_next()


class FakeClock(Clock):
    """Starts at a fixed instant; `advance()` moves both wall and monotonic time."""

    def __init__(self, start: datetime = datetime(2026, 1, 1, tzinfo=timezone.utc), tick: timedelta = timedelta(milliseconds=1)) -> None:
        self._now = start
        self._mono = 1000.0
        self._tick = tick

    def now(self) -> datetime:
        self._now += self._tick
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        self._mono += seconds
