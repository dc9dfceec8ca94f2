"""What a starting process does before serving: recover, sync, seed the sample, warm the model."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from churn.errors import ChurnError, DatasetExistsError, DatasetNotFoundError, UnavailableError
from entrypoints.container import Container

log = logging.getLogger("churn")

SAMPLE_CSV = Path(__file__).resolve().parent.parent / "data" / "sample_customers.csv"
SAMPLE_NAME = "sample"
SAMPLE_TARGET = "Churn"
SAMPLE_ID = "customerID"


def bootstrap(container: Container) -> None:
    """Idempotent; tolerates an unreachable registry (predictions then start once it is back).
    Starts the job-lease thread: from here on this process keeps its training jobs alive."""
    settings = container.config()
    container.job_lease_keeper().tick()  # fails the jobs of processes that stopped more than a lease ago
    container.job_lease_keeper().start()
    try:
        added = container.sync_model_records().execute()
        if added:
            log.info("copied %d model record(s) from the registry into the store", added)
    except ChurnError as exc:
        log.warning("could not read the model registry at start-up: %s", exc.message)
    if settings.get("load_sample") and SAMPLE_CSV.exists():
        try:
            seed_sample(container)
        except UnavailableError as exc:
            # The process serves unready (/ready says why) and seeds the sample once the store answers.
            log.warning("could not register the sample data at start-up: %s; retrying in the background", exc.message)
            _retry_in_background("churn-seed-sample", lambda: seed_sample(container))
    try:
        ref = container.active_model().current_ref()
        log.info("active model: %s", ref or "none (train one with POST /train)")
    except ChurnError as exc:
        log.warning("could not load the active model: %s", exc.message)


def _retry_in_background(name: str, action, interval: float = 2.0) -> threading.Thread:
    """Run `action` every `interval` seconds in a daemon thread until it succeeds."""

    def loop() -> None:
        while True:
            time.sleep(interval)
            try:
                action()
                log.info("%s: done", name)
                return
            except UnavailableError:
                continue
            except ChurnError as exc:
                log.warning("%s: %s", name, exc.message)
                return

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    return thread


def prepare_shared_state(container: Container) -> None:
    """Run once before several worker processes start together: create what they would otherwise race
    to create. MLflow's SQLite migrations fail when two processes run them at once ("duplicate column
    name"), and the store's schema is created on first use."""
    for what, touch in (("model registry", lambda: container.registry().active()), ("store", lambda: container.job_store().unfinished())):
        try:
            touch()
        except ChurnError as exc:
            log.warning("could not prepare the %s before starting the workers: %s", what, exc.message)


def seed_sample(container: Container) -> None:
    content = SAMPLE_CSV.read_bytes()
    try:
        container.dataset_store().get(SAMPLE_NAME)
    except DatasetNotFoundError:
        try:
            container.register_dataset().execute(SAMPLE_NAME, content, SAMPLE_TARGET, SAMPLE_ID)
            log.info("registered the project's sample as data set %r", SAMPLE_NAME)
        except DatasetExistsError:
            pass  # another process starting on the same store registered it first
    if container.customers().count() == 0:
        report = container.import_customers().execute(content, SAMPLE_ID)
        log.info("loaded %d sample customers into CLIENTES", report.inserted)
