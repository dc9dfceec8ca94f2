"""A scoring run: every stored customer (or the filtered ones) scored by one model version, in
customer-id order, a batch at a time, each customer at most once per run."""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Mapping

from churn.errors import InvalidRequestError
from churn.training_jobs import JobStatus
from churn.customers import Customer
from churn.ids import fresh_id
from churn.scoring_chunks import ScoringChunk
from churn.timestamps import utc_text
from churn.versions import ModelRef

MAX_FILTER_IDS = 100_000
MAX_SKIP_REASONS = 20
"""Distinct skip reasons kept in a run's summary; the rest are counted under 'other'."""


RunStatus = JobStatus
"""A scoring run goes through a training job's states (queued, running, succeeded, failed): one enum, two names."""


@dataclass(frozen=True, slots=True)
class CustomerFilter:
    """Which stored customers a run scores: these ids, and/or those whose attributes equal these values."""

    ids: tuple[str, ...] = ()
    attributes: Mapping[str, Any] = field(default_factory=dict)
    _id_set: frozenset[str] = field(init=False, repr=False, compare=False)
    _sorted_ids: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_id_set", frozenset(self.ids))
        object.__setattr__(self, "_sorted_ids", tuple(sorted(self._id_set)))
        if len(self.ids) > MAX_FILTER_IDS:
            raise InvalidRequestError(f"a scoring run's filter lists at most {MAX_FILTER_IDS} customer ids")
        for value in self.attributes.values():
            if value is not None and not isinstance(value, (str, int, float)):
                raise InvalidRequestError("a filter on attributes compares each with a string, a number or null")

    @property
    def size(self) -> int | None:
        """How many customers the ids name (repeats once), None without ids."""
        return len(self._sorted_ids) if self.ids else None

    def ids_after(self, customer_id: str | None, limit: int) -> tuple[str, ...]:
        """The next `limit` ids of the filter greater than `customer_id`, ascending: a run with ids
        looks these up instead of walking the whole base."""
        start = 0 if customer_id is None else bisect.bisect_right(self._sorted_ids, customer_id)
        return self._sorted_ids[start : start + limit]

    def ids_every(self, step: int) -> tuple[str, ...]:
        """The filter's ids at places step, 2·step, ... of their order: bounds of pages of `step`."""
        return self._sorted_ids[step - 1 :: step]

    def matches(self, customer: Customer) -> bool:
        if self.ids and customer.customer_id not in self._id_set:
            return False
        return all(_same(customer.attributes.get(name), value) for name, value in self.attributes.items())

    def to_dict(self) -> dict[str, Any]:
        return {"ids": list(self.ids), "attributes": dict(self.attributes)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "CustomerFilter | None":
        if not data:
            return None
        return cls(tuple(data.get("ids") or ()), dict(data.get("attributes") or {}))


def _same(stored: Any, wanted: Any) -> bool:
    if isinstance(wanted, (int, float)) and not isinstance(wanted, bool) and isinstance(stored, (int, float)):
        return float(stored) == float(wanted)
    return bool(stored == wanted)


@dataclass(frozen=True, slots=True)
class ScoringRun:
    """Progress counts: `scored` customers got a prediction tagged with `run_id`, `skipped` lacked
    what the model needs (`skip_reasons` says what, counted), `excluded` did not match the filter;
    `last_customer_id` is where the run goes on."""

    run_id: str
    model: ModelRef
    created_at: datetime
    total: int
    customers: CustomerFilter | None = None
    status: RunStatus = RunStatus.QUEUED
    scored: int = 0
    skipped: int = 0
    excluded: int = 0
    skip_reasons: Mapping[str, int] = field(default_factory=dict)
    last_customer_id: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    heartbeat_at: datetime | None = None
    seconds_running: float = 0.0
    """Time spent scoring, over every attempt (a resumed run adds to it): the rate's denominator."""
    error: str | None = None
    owner: str | None = None
    chunks: tuple[ScoringChunk, ...] = ()
    """Empty for a run gone through in one sequence; else its pages, each a task of the job engine."""
    workers: Mapping[str, int] = field(default_factory=dict)
    """Customers gone through per worker identity, as the chunks reported them."""
    revision: int = 0
    """Counted up by every change of a chunked run: what its compare-and-set updates compare."""

    @classmethod
    def new(
        cls, model: ModelRef, total: int, customers: CustomerFilter | None, now: datetime, owner: str | None = None,
        chunks: tuple[ScoringChunk, ...] = (),
    ) -> "ScoringRun":
        return cls(fresh_id(), model, now, total, customers, owner=owner, heartbeat_at=now, chunks=chunks)

    @property
    def done(self) -> int:
        return self.scored + self.skipped + self.excluded

    @property
    def rate(self) -> float | None:
        """Customers processed per second of running time."""
        return self.done / self.seconds_running if self.seconds_running > 0 and self.done else None

    @property
    def eta_seconds(self) -> float | None:
        if self.status.finished:
            return 0.0
        rate = self.rate
        return max(0, self.total - self.done) / rate if rate else None

    def interrupted(self, now: datetime, lease: timedelta) -> bool:
        """Unfinished, and its process showed no sign of life for a whole lease: it can be resumed."""
        return not self.status.finished and (self.heartbeat_at or self.created_at) < now - lease

    def started(self, now: datetime, scored: int, last_customer_id: str | None, owner: str | None) -> "ScoringRun":
        """(Re)starting: the counts of what the store already holds for this run are authoritative."""
        return replace(
            self,
            status=RunStatus.RUNNING,
            started_at=self.started_at or now,
            heartbeat_at=now,
            scored=scored,
            last_customer_id=last_customer_id,
            finished_at=None,
            error=None,
            owner=owner or self.owner,
        )

    def progressed(self, scored: int, skipped: Counter[str], excluded: int, last_customer_id: str, seconds: float, now: datetime) -> "ScoringRun":
        return replace(
            self,
            scored=self.scored + scored,
            skipped=self.skipped + sum(skipped.values()),
            excluded=self.excluded + excluded,
            skip_reasons=_merged(self.skip_reasons, skipped),
            last_customer_id=last_customer_id,
            seconds_running=self.seconds_running + seconds,
            heartbeat_at=now,
        )

    def queued_again(self, now: datetime, owner: str | None, lease: timedelta | None = None) -> "ScoringRun":
        """A failed or interrupted run handed to a worker again; its progress is kept. A chunked run's
        chunks that did not succeed are queued again, but one a live worker still holds (it beat
        within `lease`) is left to it."""
        chunks = tuple(c if lease is not None and c.status is RunStatus.RUNNING and not c.interrupted(now, lease) else c.queued_again() for c in self.chunks)
        return replace(
            self, status=RunStatus.QUEUED, heartbeat_at=now, finished_at=None, error=None, owner=owner or self.owner,
            chunks=chunks, revision=self.revision + 1,
        )

    # ------------------------------------------------------------ chunks (a run split over workers)

    def interrupted_chunks(self, now: datetime, lease: timedelta) -> list[int]:
        return [c.index for c in self.chunks if c.interrupted(now, lease)] if not self.status.finished else []

    def chunk_claimed(self, index: int, owner: str, now: datetime, lease: timedelta, scored: int, last_customer_id: str | None) -> "ScoringRun | None":
        """Chunk `index` taken by `owner`, or None when it is not to be taken (finished, held by a live
        worker, or the run ended)."""
        chunk = self.chunks[index]
        if self.status.finished or not chunk.claimable(now, lease):
            return None
        return self._with_chunk(chunk.claimed(owner, now, scored, last_customer_id), now, status=RunStatus.RUNNING)

    def chunk_progressed(
        self, index: int, owner: str, attempt: int, scored: int, skipped: Counter[str], excluded: int, last_customer_id: str, now: datetime
    ) -> "ScoringRun | None":
        """A batch of chunk `index` recorded, or None when `owner`'s attempt no longer holds it."""
        chunk = self.chunks[index]
        if self.status.finished or not chunk.held_by(owner, attempt):
            return None
        counted = replace(self, skip_reasons=_merged(self.skip_reasons, skipped))
        workers = dict(self.workers)
        workers[owner] = workers.get(owner, 0) + scored + sum(skipped.values()) + excluded
        return replace(
            counted._with_chunk(chunk.progressed(scored, sum(skipped.values()), excluded, last_customer_id, now), now), workers=workers
        )

    def chunk_ended(self, index: int, owner: str, attempt: int, now: datetime, error: str | None = None) -> "ScoringRun | None":
        """Chunk `index` gone through (or failed with `error`, which fails the run); the run succeeds
        with its last chunk. None when `owner`'s attempt no longer holds it."""
        chunk = self.chunks[index]
        if self.status.finished or not chunk.held_by(owner, attempt):
            return None
        run = self._with_chunk(chunk.ended(RunStatus.FAILED if error else RunStatus.SUCCEEDED, now), now)
        if error is not None:
            return run.failed(error, now)
        if all(c.status is RunStatus.SUCCEEDED for c in run.chunks):
            return run.succeeded(now)
        return run

    def _with_chunk(self, chunk: ScoringChunk, now: datetime, status: RunStatus | None = None) -> "ScoringRun":
        chunks = tuple(chunk if c.index == chunk.index else c for c in self.chunks)
        started = self.started_at or now
        return replace(
            self,
            chunks=chunks,
            status=status or self.status,
            started_at=started,
            heartbeat_at=now,
            scored=sum(c.scored for c in chunks),
            skipped=sum(c.skipped for c in chunks),
            excluded=sum(c.excluded for c in chunks),
            seconds_running=max(self.seconds_running, (now - started).total_seconds()),  # wall clock: chunks run side by side
            revision=self.revision + 1,
        )

    def succeeded(self, now: datetime) -> "ScoringRun":
        return replace(self, status=RunStatus.SUCCEEDED, finished_at=now, heartbeat_at=now, total=max(self.total, self.done))

    def failed(self, reason: str, now: datetime) -> "ScoringRun":
        return replace(self, status=RunStatus.FAILED, finished_at=now, heartbeat_at=now, error=reason)

    def to_dict(self) -> dict[str, Any]:
        def text(moment: datetime | None) -> str | None:
            return None if moment is None else utc_text(moment)

        return {
            "run_id": self.run_id,
            "model": str(self.model),
            "created_at": text(self.created_at),
            "total": self.total,
            "customers": None if self.customers is None else self.customers.to_dict(),
            "status": self.status.value,
            "scored": self.scored,
            "skipped": self.skipped,
            "excluded": self.excluded,
            "skip_reasons": dict(self.skip_reasons),
            "last_customer_id": self.last_customer_id,
            "started_at": text(self.started_at),
            "finished_at": text(self.finished_at),
            "heartbeat_at": text(self.heartbeat_at),
            "seconds_running": self.seconds_running,
            "error": self.error,
            "owner": self.owner,
            "chunks": [c.to_dict() for c in self.chunks],
            "workers": dict(self.workers),
            "revision": self.revision,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ScoringRun":
        def moment(text: str | None) -> datetime | None:
            return None if text is None else datetime.fromisoformat(text)

        name, _, version = data["model"].rpartition(":")
        return cls(
            run_id=data["run_id"],
            model=ModelRef(name, int(version)),
            created_at=datetime.fromisoformat(data["created_at"]),
            total=data["total"],
            customers=CustomerFilter.from_dict(data.get("customers")),
            status=RunStatus(data["status"]),
            scored=data["scored"],
            skipped=data["skipped"],
            excluded=data["excluded"],
            skip_reasons=dict(data["skip_reasons"]),
            last_customer_id=data["last_customer_id"],
            started_at=moment(data["started_at"]),
            finished_at=moment(data["finished_at"]),
            heartbeat_at=moment(data["heartbeat_at"]),
            seconds_running=data["seconds_running"],
            error=data["error"],
            owner=data["owner"],
            chunks=tuple(ScoringChunk.from_dict(c) for c in data.get("chunks") or ()),  # runs stored before chunks had none
            workers=dict(data.get("workers") or {}),
            revision=data.get("revision") or 0,
        )


def _merged(reasons: Mapping[str, int], skipped: Counter[str]) -> dict[str, int]:
    merged = Counter(reasons)
    for reason, n in skipped.items():
        if reason in merged or len(merged) < MAX_SKIP_REASONS:
            merged[reason] += n
        else:
            merged["other"] += n
    return dict(merged)
