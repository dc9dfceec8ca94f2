"""Where one `/predict` spends its time, and the commit its answer waits for, taken around the use
case rather than inside it: `PredictChurn` is synchronous and times nothing.

The container wraps the use case's two ports in the decorators below. Outside a request that opened
a `PredictStages` (a stored-customer prediction, the CLI) they pass straight through. Inside one:

- `MeteredModelVersions` marks when the model was looked up and hands out a `MeteredModel`, which
  marks when scoring starts: the time between the two is `validate` (the schema check).
- `MeteredPredictions.add` closes `score` (scoring, reasons) and either stores at once, timing
  `store`, or, when the request scores on the event loop, submits the prediction to a store that
  commits in groups and leaves the future for the route to await before it answers.

The stages live in a ContextVar, so they follow the request into a worker thread
(`run_in_threadpool` copies the context) and never mix between concurrent requests.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any, Mapping

from churn.ports import ChurnModel, PredictionRepository, PredictionSubmitter
from churn.predictions import Prediction
from churn.services.model_versions import ModelVersions
from churn.versions import ModelFilter, ModelRef

STAGES = ("parse", "validate", "score", "store")


@dataclass(slots=True)
class PredictStages:
    """One request's stage seconds; `defer`: the prediction is submitted, not stored, by the use case."""

    defer: bool = False
    seconds: dict[str, float] = field(default_factory=dict)
    pending: Future[None] | None = None
    _mark: float = 0.0

    async def committed(self) -> None:
        """Wait, without blocking the loop, until a deferred prediction is stored (or raise the store's error)."""
        if self.pending is None:
            return
        started = perf_counter()
        if self.pending.done():
            self.pending.result()
        else:
            await asyncio.wrap_future(self.pending)
        self.seconds["store"] = perf_counter() - started


_current: ContextVar[PredictStages | None] = ContextVar("predict_stages", default=None)


def open_stages(stages: PredictStages) -> Token[PredictStages | None]:
    return _current.set(stages)


def close_stages(token: Token[PredictStages | None]) -> None:
    _current.reset(token)


class MeteredModel:
    """A ChurnModel that marks the end of validation when scoring starts; the rest passes through."""

    __slots__ = ("_inner", "_stages", "explain", "schema", "threshold")

    def __init__(self, inner: ChurnModel, stages: PredictStages) -> None:
        self._inner = inner
        self._stages = stages
        # What PredictChurn reads on every request, bound once here rather than looked up through
        # __getattr__ (a failed attribute lookup, then a Python call) each time.
        self.schema = inner.schema
        self.threshold = inner.threshold
        self.explain = inner.explain

    def score(self, features: Mapping[str, Any]) -> float:
        stages = self._stages
        now = perf_counter()
        stages.seconds["validate"] = now - stages._mark
        stages._mark = now
        return self._inner.score(features)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class MeteredModelVersions:
    """ModelVersions that marks the lookup inside a metered request."""

    def __init__(self, inner: ModelVersions) -> None:
        self._inner = inner

    def get(self, wanted: ModelFilter | None = None) -> tuple[ModelRef, ChurnModel]:
        ref, model = self._inner.get(wanted)
        stages = _current.get()
        if stages is None:
            return ref, model
        stages._mark = perf_counter()
        return ref, MeteredModel(model, stages)


class MeteredPredictions:
    """The prediction store, timed inside a metered request; deferred to `submitter` when asked."""

    def __init__(self, inner: PredictionRepository, submitter: PredictionSubmitter | None) -> None:
        self._inner = inner
        self._submitter = submitter

    def add(self, prediction: Prediction) -> None:
        stages = _current.get()
        if stages is None:
            self._inner.add(prediction)
            return
        now = perf_counter()
        stages.seconds["score"] = now - stages._mark
        if stages.defer and self._submitter is not None:
            stages.pending = self._submitter.submit(prediction)
            return
        self._inner.add(prediction)
        stages.seconds["store"] = perf_counter() - now

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
