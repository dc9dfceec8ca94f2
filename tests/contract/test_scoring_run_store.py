"""ScoringRunStore contract, and CustomerRepository.batch_after (the scan a run makes), for every adapter."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from churn.errors import ScoringRunNotFoundError
from churn.customers import Customer
from churn.versions import ModelRef
from churn.scoring_runs import CustomerFilter, RunStatus, ScoringRun

T0 = datetime(2026, 6, 1, 8, 0, 0, 654321, tzinfo=timezone.utc)


def test_a_run_round_trips_with_its_progress(backend):
    runs = backend.scoring_runs()
    run = ScoringRun.new(ModelRef("churn-lr", 2), 10, CustomerFilter(("a", "b"), {"Contract": "Month-to-month", "tenure": 2.0}), T0, "me")
    runs.save(run)
    assert runs.get(run.run_id) == run
    later = run.started(T0, 0, None, "me").progressed(3, Counter({"tenure: missing": 2}), 1, "c-9", 0.5, T0 + timedelta(seconds=1))
    runs.save(later.succeeded(T0 + timedelta(seconds=2)))
    stored = runs.get(run.run_id)
    assert stored.status is RunStatus.SUCCEEDED and stored.done == 6 and stored.skip_reasons == {"tenure: missing": 2}
    assert stored.last_customer_id == "c-9" and stored.rate == 12.0
    with pytest.raises(ScoringRunNotFoundError):
        runs.get("nope")


def test_runs_are_listed_newest_first(backend):
    runs = backend.scoring_runs()
    made = [ScoringRun.new(ModelRef("m", 1), 1, None, T0 + timedelta(seconds=i), None) for i in range(3)]
    for run in made:
        runs.save(run)
    assert [r.run_id for r in runs.list(2)] == [made[2].run_id, made[1].run_id]


def test_customers_are_scanned_in_id_order_a_batch_at_a_time(backend):
    customers = backend.customers()
    customers.upsert_many([Customer(f"c-{i:03d}", {"tenure": float(i)}) for i in (5, 1, 3, 2, 4)])
    assert [c.customer_id for c in customers.batch_after(None, 2)] == ["c-001", "c-002"]
    assert [c.customer_id for c in customers.batch_after("c-002", 2)] == ["c-003", "c-004"]
    assert [c.customer_id for c in customers.batch_after("c-0025", 10)] == ["c-003", "c-004", "c-005"]
    assert customers.batch_after("c-005", 10) == []


def test_customers_named_by_id_are_looked_up_in_id_order_absent_ones_left_out(backend):
    customers = backend.customers()
    customers.upsert_many([Customer(f"c-{i:03d}", {"tenure": float(i)}) for i in range(1, 8)])
    found = customers.batch_of(["c-006", "c-002", "nobody", "c-002", "c-004"])
    assert [(c.customer_id, c.attributes["tenure"]) for c in found] == [("c-002", 2.0), ("c-004", 4.0), ("c-006", 6.0)]
    assert customers.batch_of([]) == [] and customers.batch_of(["nobody"]) == []
    many = customers.batch_of([f"c-{i:03d}" for i in range(1, 8)] * 300)  # more ids than one lookup takes
    assert [c.customer_id for c in many] == [f"c-{i:03d}" for i in range(1, 8)]


def test_a_claim_stores_only_over_the_state_it_was_read_in(backend):
    runs = backend.scoring_runs()
    run = ScoringRun.new(ModelRef("m", 1), 5, None, T0, "a").failed("boom", T0 + timedelta(seconds=1))
    runs.save(run)
    read = runs.get(run.run_id)
    assert runs.claim(read.queued_again(T0 + timedelta(seconds=5), "b"), expected=read) is True
    stored = runs.get(run.run_id)
    assert stored.status is RunStatus.QUEUED and stored.owner == "b"
    # a second claimer that read the run before the first claim loses, and changes nothing
    assert runs.claim(read.queued_again(T0 + timedelta(seconds=6), "c"), expected=read) is False
    assert runs.get(run.run_id) == stored


def test_of_several_claims_from_one_reading_at_the_same_moment_exactly_one_wins(backend):
    import threading

    runs = backend.scoring_runs()
    run = ScoringRun.new(ModelRef("m", 1), 5, None, T0, "a").failed("boom", T0 + timedelta(seconds=1))
    runs.save(run)
    claimers = 8
    barrier = threading.Barrier(claimers)
    results: list[bool] = []
    lock = threading.Lock()

    def claim(i: int) -> None:
        store = runs  # one adapter, as the processes of a server share one (on SQLite, a connection per thread)
        read = store.get(run.run_id)
        barrier.wait()  # every claimer has read the same state before any claims
        won = store.claim(read.queued_again(T0 + timedelta(seconds=10 + i), f"p{i}"), expected=read)
        with lock:
            results.append(won)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(claimers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * (claimers - 1) + [True]
    winner = runs.get(run.run_id)
    assert winner.status is RunStatus.QUEUED and winner.owner in {f"p{i}" for i in range(claimers)}


# ---------------------------------------------------------------- a run in chunks, split over workers


def chunked_run(pages: int = 3) -> ScoringRun:
    from churn.scoring_chunks import plan

    return ScoringRun.new(ModelRef("m", 1), 30, None, T0, "api", chunks=plan([f"c-{10 * (i + 1):03d}" for i in range(pages - 1)]))


def test_a_run_in_chunks_round_trips_with_every_chunk_and_the_workers(backend):
    runs = backend.scoring_runs()
    run = chunked_run()
    runs.save(run)
    lease = timedelta(seconds=60)
    claimed = run.chunk_claimed(1, "worker-1", T0, lease, 0, None)
    assert claimed is not None and runs.claim(claimed, expected=run)
    moved = claimed.chunk_progressed(1, "worker-1", 1, 3, Counter({"tenure: missing": 1}), 2, "c-016", T0 + timedelta(seconds=2))
    assert moved is not None and runs.claim(moved, expected=claimed)
    stored = runs.get(run.run_id)
    assert stored == moved and stored.revision == 2
    assert [(c.after, c.upto, c.status) for c in stored.chunks] == [
        (None, "c-010", RunStatus.QUEUED), ("c-010", "c-020", RunStatus.RUNNING), ("c-020", None, RunStatus.QUEUED)
    ]
    assert (stored.chunks[1].owner, stored.chunks[1].last_customer_id, stored.done, stored.workers) == ("worker-1", "c-016", 6, {"worker-1": 6})
    assert stored.rate == 3.0 and stored.status is RunStatus.RUNNING


def test_a_claim_compares_the_revision_even_when_status_and_heartbeat_are_the_same(backend):
    from dataclasses import replace

    runs = backend.scoring_runs()
    run = chunked_run()
    runs.save(run)
    read = runs.get(run.run_id)
    assert runs.claim(replace(read, revision=read.revision + 1, total=31), expected=read) is True
    assert runs.claim(replace(read, revision=read.revision + 1, total=32), expected=read) is False  # same status and heartbeat, older revision
    assert runs.get(run.run_id).total == 31


def test_workers_recording_their_chunks_at_the_same_moment_lose_no_update(backend, request):
    """Each worker reads, changes its chunk, and compares-and-sets until the store takes it (as
    ScoreRunChunk does): every report of every worker is in the run afterwards."""
    import threading

    if request.node.callspec.params["backend"] == "mongomock":
        pytest.skip("mongomock's update_one is not atomic across threads (MongoDB's is, per document): run with CHURN_MONGODB_URI")

    runs = backend.scoring_runs()
    run = chunked_run(pages=4)
    runs.save(run)
    lease, reports = timedelta(seconds=60), 5
    barrier = threading.Barrier(4)

    def update(change) -> None:
        while True:
            read = runs.get(run.run_id)
            if runs.claim(change(read), expected=read):
                return

    def worker(index: int) -> None:
        owner = f"worker-{index}"
        barrier.wait()
        update(lambda r: r.chunk_claimed(index, owner, T0, lease, 0, None))
        for n in range(reports):
            last = f"c-{10 * index + n + 1:03d}"
            update(lambda r, last=last: r.chunk_progressed(index, owner, 1, 1, Counter(), 0, last, T0 + timedelta(seconds=1)))
        update(lambda r: r.chunk_ended(index, owner, 1, T0 + timedelta(seconds=2)))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done = runs.get(run.run_id)
    assert done.status is RunStatus.SUCCEEDED and done.scored == 4 * reports
    assert done.workers == {f"worker-{i}": reports for i in range(4)} and done.revision == 4 * (reports + 2)


def test_the_base_is_cut_into_pages_of_a_given_size_reading_ids_only(backend):
    customers = backend.customers()
    assert customers.ids_every(3) == []
    customers.upsert_many([Customer(f"c-{i:03d}", {"tenure": float(i)}) for i in (7, 1, 3, 2, 5, 4, 6)])
    assert customers.ids_every(3) == ["c-003", "c-006"]
    assert customers.ids_every(1) == [f"c-{i:03d}" for i in range(1, 8)]
    assert customers.ids_every(7) == ["c-007"] and customers.ids_every(8) == []


def test_the_predictions_of_a_run_are_counted_within_a_chunk_with_its_last_customer(backend):
    from churn.predictions import Prediction

    predictions = backend.predictions()
    predictions.add_many([Prediction(f"p{i}", f"c-{i:03d}", {}, 0.5, ModelRef("m", 1), T0, run_id="run-1") for i in (1, 2, 4, 5, 9)])
    predictions.add_many([Prediction("q3", "c-003", {}, 0.5, ModelRef("m", 1), T0, run_id="run-2")])
    assert predictions.run_rows_between("run-1", None, "c-004") == (3, "c-004")
    assert predictions.run_rows_between("run-1", "c-002", "c-005") == (2, "c-005")
    assert predictions.run_rows_between("run-1", "c-005", None) == (1, "c-009")
    assert predictions.run_rows_between("run-1", "c-009", None) == (0, None)
    assert predictions.run_rows_between("run-2", None, None) == (1, "c-003")
