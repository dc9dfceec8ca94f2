"""A chunk of a scoring run: one page of the run's customer ordering, the unit a job engine's worker
takes. The plan (every chunk's bounds and progress) lives in the run's document in the store."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Mapping, Sequence

from churn.timestamps import utc_text
from churn.training_jobs import JobStatus

TASK_SEPARATOR = "_"
"""Between a run's id (hex) and a chunk's index in the id of the chunk's task: job engines take
letters, digits, underscores and dashes in an id (RQ refuses anything else)."""


def task_id(run_id: str, index: int) -> str:
    return f"{run_id}{TASK_SEPARATOR}{index}"


def parse_task_id(text: str) -> tuple[str, int]:
    """(run_id, index) of a chunk task's id; ValueError when it is not one."""
    run_id, separator, index = text.rpartition(TASK_SEPARATOR)
    if not separator or not run_id:
        raise ValueError(f"not a scoring chunk's task id: {text!r}")
    return run_id, int(index)


@dataclass(frozen=True, slots=True)
class ScoringChunk:
    """The customers with an id in (`after`, `upto`] (None: open at that end), in id order.

    `owner` and `attempt` name who holds it: each claim adds one to `attempt`, so a worker that lost
    its chunk (it stopped beating for a lease and another took the chunk over) can tell before it
    writes. `last_customer_id` is where the chunk goes on; the counts are what was recorded."""

    index: int
    after: str | None
    upto: str | None
    status: JobStatus = JobStatus.QUEUED
    owner: str | None = None
    attempt: int = 0
    heartbeat_at: datetime | None = None
    last_customer_id: str | None = None
    scored: int = 0
    skipped: int = 0
    excluded: int = 0

    @property
    def start_after(self) -> str | None:
        """The id the next batch starts after: the recorded progress, else the lower bound."""
        return self.last_customer_id or self.after

    def contains(self, customer_id: str) -> bool:
        return (self.after is None or customer_id > self.after) and (self.upto is None or customer_id <= self.upto)

    def interrupted(self, now: datetime, lease: timedelta) -> bool:
        """Running, and its worker showed no sign of life for a whole lease: another may take it over."""
        return self.status is JobStatus.RUNNING and (self.heartbeat_at is None or self.heartbeat_at < now - lease)

    def claimable(self, now: datetime, lease: timedelta) -> bool:
        return self.status is JobStatus.QUEUED or self.interrupted(now, lease)

    def held_by(self, owner: str, attempt: int) -> bool:
        return self.status is JobStatus.RUNNING and self.owner == owner and self.attempt == attempt

    def claimed(self, owner: str, now: datetime, scored: int, last_customer_id: str | None) -> "ScoringChunk":
        """Taken by `owner`; `scored` and `last_customer_id` are what the prediction store holds for
        this chunk (authoritative: a worker killed between its write and its report wrote more than it
        recorded)."""
        resume = max(filter(None, (self.last_customer_id, last_customer_id)), default=None)
        return replace(
            self, status=JobStatus.RUNNING, owner=owner, attempt=self.attempt + 1, heartbeat_at=now, scored=scored, last_customer_id=resume
        )

    def progressed(self, scored: int, skipped: int, excluded: int, last_customer_id: str, now: datetime) -> "ScoringChunk":
        return replace(
            self,
            scored=self.scored + scored,
            skipped=self.skipped + skipped,
            excluded=self.excluded + excluded,
            last_customer_id=last_customer_id,
            heartbeat_at=now,
        )

    def ended(self, status: JobStatus, now: datetime) -> "ScoringChunk":
        return replace(self, status=status, heartbeat_at=now)

    def queued_again(self) -> "ScoringChunk":
        """Handed out again after a failure or an interruption; its progress is kept."""
        return self if self.status is JobStatus.SUCCEEDED else replace(self, status=JobStatus.QUEUED)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "after": self.after,
            "upto": self.upto,
            "status": self.status.value,
            "owner": self.owner,
            "attempt": self.attempt,
            "heartbeat_at": None if self.heartbeat_at is None else utc_text(self.heartbeat_at),
            "last_customer_id": self.last_customer_id,
            "scored": self.scored,
            "skipped": self.skipped,
            "excluded": self.excluded,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ScoringChunk":
        beat = data.get("heartbeat_at")
        return cls(
            index=data["index"],
            after=data["after"],
            upto=data["upto"],
            status=JobStatus(data["status"]),
            owner=data["owner"],
            attempt=data["attempt"],
            heartbeat_at=None if beat is None else datetime.fromisoformat(beat),
            last_customer_id=data["last_customer_id"],
            scored=data["scored"],
            skipped=data["skipped"],
            excluded=data["excluded"],
        )


def plan(bounds: Sequence[str]) -> tuple[ScoringChunk, ...]:
    """Chunks cut at `bounds` (ascending ids, each the last of its chunk); the last chunk is open
    above, so customers stored after the plan was made are still gone through."""
    edges: list[str | None] = [None, *bounds]
    return tuple(ScoringChunk(i, edges[i], edges[i + 1] if i + 1 < len(edges) else None) for i in range(len(edges)))
