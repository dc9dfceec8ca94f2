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
