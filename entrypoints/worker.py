"""`main.py worker`: an RQ worker on the trainings queue and the scoring-run chunks queue, in this process.

A `SimpleWorker` runs each job in the worker process itself rather than in a fork per job: the
container (store connections, MLflow client, model cache) is built once, no thread is forked, and
killing the worker kills the training with it (its job then ends `failed` / `interrupted` when its
lease runs out, noticed by any process on the store). Run as many workers as wanted, on any machine
that reaches Redis, the store and the MLflow server."""

from __future__ import annotations

import logging

import redis
from rq import SimpleWorker

from churn.errors import ChurnError
from entrypoints import worker_tasks
from entrypoints.container import Container

log = logging.getLogger("churn")


def run_worker(container: Container, burst: bool = False) -> int:
    config = container.config()
    if config.get("job_runner") != "rq":
        log.error("main.py worker needs CHURN_JOB_RUNNER=rq (and CHURN_BROKER_URL); it is %r", config.get("job_runner"))
        return 2
    worker_tasks.install(container)
    container.import_training_modules()  # the trainer and MLflow imported before the first training, not during it
    keeper = container.job_lease_keeper()
    try:
        keeper.tick()  # fails the jobs of processes (servers or workers) that stopped more than a lease ago
    except ChurnError as exc:
        log.warning("could not check job leases at start: %s", exc.message)
    keeper.start()
    queues = [container.job_runner().queue_name, container.scoring_runner().queue_name]  # trainings first
    connection = redis.Redis.from_url(config["broker_url"])
    worker = SimpleWorker(queues, connection=connection, name=f"churn-{container.process_identity()}".replace(":", "-"))
    log.info("worker %s on %s, queues %s", worker.name, config["broker_url"].rpartition("@")[2], ", ".join(queues))
    try:
        worker.work(burst=burst, logging_level=str(config.get("log_level") or "info").upper(), with_scheduler=False)
    finally:
        keeper.stop()
    return 0
