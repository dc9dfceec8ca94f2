"""The edge's stage meter and deferred commit around the synchronous PredictChurn
(entrypoints/api/predict_stages.py), on fakes."""

import asyncio
from concurrent.futures import Future

import pytest

from adapters.memory import InMemoryPredictionRepository
from churn.errors import StoreUnavailableError
from churn.paging import PageRequest
from churn.predictions import Prediction
from churn.use_cases.predict_churn import PredictChurn
from entrypoints.api.predict_stages import MeteredModelVersions, MeteredPredictions, PredictStages, close_stages, open_stages
from tests.unit.conftest import make_service

FEATURES = {"tenure": 5, "plan": "basic"}


class _LaterPredictions(InMemoryPredictionRepository):
    """Stores a submitted prediction only when the test says so, like a store committing in groups."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting: list[tuple[Prediction, Future]] = []

    def submit(self, prediction: Prediction) -> Future:
        future: Future = Future()
        self.waiting.append((prediction, future))
        return future

    def commit(self, error: Exception | None = None) -> None:
        for prediction, future in self.waiting:
            if error is None:
                self.add(prediction)
                future.set_result(None)
            else:
                future.set_exception(error)
        self.waiting.clear()


def _metered(predictions, submitter=None):
    service = make_service(predictions=predictions)
    use_case = PredictChurn(MeteredModelVersions(service.versions), MeteredPredictions(predictions, submitter), service.clock)
    return service, use_case


def _on_loop(predictions: _LaterPredictions, commit_error: Exception | None = None):
    """Score as /predict does on the event loop: the store commits while the answer awaits it."""
    service, use_case = _metered(predictions, predictions)
    service.trained(base=0.8)

    async def scenario():
        stages = PredictStages(defer=True)
        token = open_stages(stages)
        try:
            prediction = use_case.execute("c1", FEATURES)
        finally:
            close_stages(token)
        stored_before = len(predictions.waiting) and predictions.for_customer("c1", PageRequest()).total
        waiting = asyncio.ensure_future(stages.committed())
        await asyncio.sleep(0)
        pending = not waiting.done()
        predictions.commit(commit_error)
        await waiting
        return stored_before, pending, prediction, stages

    return service, asyncio.run(scenario())


def test_a_deferred_prediction_is_answered_only_once_the_store_committed_it():
    predictions = _LaterPredictions()
    service, (stored_before, was_pending, prediction, stages) = _on_loop(predictions)
    assert stored_before == 0 and was_pending  # submitted, not yet stored, while the answer waited
    assert service.customer_history.execute("c1", PageRequest()).items == [prediction]
    assert set(stages.seconds) == {"validate", "score", "store"}


def test_a_deferred_commit_that_fails_reaches_the_caller():
    with pytest.raises(StoreUnavailableError):
        _on_loop(_LaterPredictions(), StoreUnavailableError("store unavailable: disk full"))


def test_a_store_that_writes_at_once_needs_no_waiting():
    predictions = InMemoryPredictionRepository()
    service, use_case = _metered(predictions, predictions)
    service.trained(base=0.3)
    stages = PredictStages(defer=True)
    token = open_stages(stages)
    prediction = use_case.execute("c1", FEATURES)
    close_stages(token)
    asyncio.run(stages.committed())
    assert service.customer_history.execute("c1", PageRequest()).items == [prediction]


def test_the_stages_say_where_a_predictions_time_went_and_nothing_is_timed_outside_a_request():
    predictions = InMemoryPredictionRepository()
    service, use_case = _metered(predictions)
    service.trained(base=0.4)
    stages = PredictStages()
    token = open_stages(stages)
    use_case.execute("c1", FEATURES)
    close_stages(token)
    assert set(stages.seconds) == {"validate", "score", "store"} and all(t >= 0 for t in stages.seconds.values())
    outside = use_case.execute("c2", FEATURES)  # no open stages: the decorators pass straight through
    assert service.customer_history.execute("c2", PageRequest()).items == [outside]
    assert set(stages.seconds) == {"validate", "score", "store"}
