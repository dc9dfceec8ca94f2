"""`JobRunner` on RQ (Redis Queue): the API process only enqueues; `main.py worker` processes on any
machine take the jobs from Redis and run them.

Delivery: at most once. RQ hands a job to one worker; a worker killed mid-task leaves the RQ job
abandoned (RQ moves it to its failed registry, no retry is configured), and the training job in the
store ends `failed` / `interrupted` once the worker's lease runs out, so a training never registers
two versions. A queued job survives a Redis restart when Redis persists (appendonly yes)."""

from __future__ import annotations

import threading
from typing import Callable

import redis
from rq import Queue
from rq.registry import StartedJobRegistry

from churn.errors import JobQueueUnavailableError
from churn.ports import JobRunner

JOB_TIMEOUT_SECONDS = 6 * 3600  # a training longer than this is stopped by the worker and fails
KEEP_FINISHED_SECONDS = 24 * 3600  # RQ's own record of a job; the store keeps the job for good


class RqJobRunner(JobRunner):
    """Enqueues `task(job_id)` (a dotted path importable on the workers) on the Redis queue `queue`.

    The `work` given to `submit` is what an in-process runner would call; here the same work runs in a
    worker process as `task`, which rebuilds it from the job id (a closure cannot cross processes).
    `position` reads the queue in Redis, so every API replica answers the same."""

    def __init__(self, broker_url: str, queue: str, task: str, job_timeout: int = JOB_TIMEOUT_SECONDS) -> None:
        self._broker_url = broker_url
        self._queue_name = queue
        self._task = task
        self._job_timeout = job_timeout
        self._queue_instance: Queue | None = None
        self._lock = threading.Lock()

    @property
    def queue_name(self) -> str:
        return self._queue_name

    def submit(self, job_id: str, work: Callable[[], object]) -> None:
        """JobQueueUnavailableError when Redis cannot be reached: then nothing was queued."""
        try:
            self._queue.enqueue_call(
                self._task,
                args=(job_id,),
                job_id=self._rq_id(job_id),
                timeout=self._job_timeout,
                result_ttl=KEEP_FINISHED_SECONDS,
                failure_ttl=KEEP_FINISHED_SECONDS,
                description=f"{self._queue_name} {job_id}",
            )
        except redis.RedisError as exc:
            raise JobQueueUnavailableError(f"job queue unreachable ({self._broker_url_safe()}): {exc}") from exc

    def position(self, job_id: str) -> int | None:
        """1-based place in the Redis queue; 1 while a worker holds it; None when unknown or on a
        Redis outage (the job's status in the store still answers)."""
        rq_id = self._rq_id(job_id)
        try:
            index = self._queue.get_job_position(rq_id)
            if index is not None:
                return index + 1
            if rq_id in StartedJobRegistry(queue=self._queue).get_job_ids():
                return 1
        except redis.RedisError:
            return None
        return None

    def shutdown(self, timeout: float = 1.0) -> None:
        with self._lock:
            queue, self._queue_instance = self._queue_instance, None
        if queue is not None:
            queue.connection.close()

    @property
    def _queue(self) -> Queue:
        with self._lock:  # connected on first use: building the container connects nothing
            if self._queue_instance is None:
                connection = redis.Redis.from_url(self._broker_url, socket_connect_timeout=5, socket_timeout=30, health_check_interval=30)
                self._queue_instance = Queue(self._queue_name, connection=connection)
            return self._queue_instance

    def _rq_id(self, job_id: str) -> str:
        return f"{self._queue_name}-{job_id}"

    def _broker_url_safe(self) -> str:
        """The URL without a password, for messages."""
        scheme, sep, rest = self._broker_url.partition("://")
        return f"{scheme}{sep}{rest.rpartition('@')[2]}" if sep else "redis"
