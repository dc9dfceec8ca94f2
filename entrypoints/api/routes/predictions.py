
from time import perf_counter
from typing import Annotated, Any

from dependency_injector.wiring import inject

from entrypoints.api.di import Provide
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from churn.errors import InvalidRequestError
from churn.bands import requested_range
from churn.paging import PageRequest
from churn.predictions import PredictionCursor
from churn.versions import ModelFilter
from churn.use_cases.list_predictions import CountPredictionsByBand, ListPredictionsByBand
from entrypoints.api.predict_stages import STAGES, PredictStages, close_stages, open_stages
from churn.use_cases.predict_churn import PredictBatch, PredictChurn
from entrypoints.api.schemas import (
    BandCountsOut,
    BandOut,
    BandPageOut,
    ErrorOut,
    PredictBatchIn,
    PredictIn,
    PredictionBatchOut,
    PredictionOut,
    PredictionPageOut,
)
from entrypoints.api.lean import LeanRoute
from entrypoints.api.query_params import unknown_query_message
from entrypoints.api.security import PREDICT, authorize
from entrypoints.container import Container

router = APIRouter(tags=["predictions"])
hot_router = APIRouter(tags=["predictions"], route_class=LeanRoute)

PREDICT_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut},
    404: {"model": ErrorOut, "description": "the version named in `model` does not exist"},
    503: {"model": ErrorOut},
}


@hot_router.post(
    "/predict",
    dependencies=[PREDICT],  # documents the key in OpenAPI; LeanRoute skips dependencies, so the endpoint checks it
    response_model=PredictionOut,
    responses=PREDICT_ERRORS,
    summary="Score one customer and store it",
    description="Scores the features with the active model, or with the version named in `model`, and "
    "answers once the prediction is stored. Invalid features get a 400 naming every problem, with a valid example.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": PredictIn.model_json_schema(ref_template="#/components/schemas/{model}")}},
        }
    },
)
async def predict(request: Request) -> Response:
    """The hot path (a LeanRoute: see entrypoints/api/lean.py). The body is parsed and validated in one
    pydantic-core pass; failures become the same 400 as every other body. With an embedded store,
    scoring runs on the event loop (a thread hop would cost more than the work) and the loop awaits
    the store's commit, which SQLite shares between concurrent requests in its writer thread. With a
    store across the network, or when the body names a version to score with (it may have to be
    loaded), the whole use case runs in a worker thread."""
    authorize(request, "predict", request.headers.get("x-api-key"))
    if request.scope["query_string"]:  # a LeanRoute solves no dependencies: the app-wide check is done here
        raise InvalidRequestError(unknown_query_message(sorted(request.query_params), ()))
    started = perf_counter()
    try:
        body = PredictIn.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_input=False, include_context=False)) from None
    version = ModelFilter.parse(body.model) if body.model else None
    state = request.app.state
    use_case: PredictChurn = state.predict_churn()  # a singleton: a lookup, not a construction
    stages = PredictStages(defer=state.inline_scoring and version is None)
    stages.seconds["parse"] = perf_counter() - started
    token = open_stages(stages)
    try:
        if stages.defer:
            prediction = use_case.execute(body.customer_id, body.features)
            await stages.committed()
        else:  # a store across the network, or a named version that may need loading: off the event loop
            prediction = await run_in_threadpool(use_case.execute, body.customer_id, body.features, version)
    finally:
        close_stages(token)
    state.metrics.record_predictions((prediction,), stages.seconds)
    return Response(PredictionOut.json_bytes(prediction), media_type="application/json", headers={"server-timing": server_timing(stages.seconds)})


def server_timing(seconds: dict[str, float]) -> str:
    """The W3C Server-Timing header (milliseconds): where this request's time went, per stage, visible
    in browser developer tools and to any client that logs headers."""
    return ", ".join(f"{stage};dur={seconds.get(stage, 0.0) * 1000:.3f}" for stage in STAGES)


@router.post(
    "/predict/batch", dependencies=[PREDICT], response_model=PredictionBatchOut, responses=PREDICT_ERRORS, summary="Score up to 1,000 customers"
)
@inject
def predict_batch(
    body: PredictBatchIn, request: Request, use_case: Annotated[PredictBatch, Depends(Provide[Container.predict_batch])]
) -> PredictionBatchOut:
    version = ModelFilter.parse(body.model) if body.model else None
    predictions = use_case.execute([(item.customer_id, item.features) for item in body.items], version)
    request.app.state.metrics.record_predictions(predictions)
    return PredictionBatchOut(items=[PredictionOut.from_domain(p) for p in predictions])


def page_request(limit: int, offset: int, after: str | None) -> PageRequest:
    return PageRequest(limit, offset, PredictionCursor.decode(after) if after else None)


@router.get(
    "/predictions", dependencies=[PREDICT],
    response_model=BandPageOut,
    responses={400: {"model": ErrorOut}},
    summary="Predictions in a churn band (or any probability interval), highest risk first",
)
@inject
def list_by_band(
    use_case: Annotated[ListPredictionsByBand, Depends(Provide[Container.list_predictions_by_band])],
    band: Annotated[str | None, Query(description="0-25, 25-50, 50-75 or 75-100", examples=["75-100"])] = None,
    min_probability: Annotated[float | None, Query(description="instead of band: lower bound, inclusive")] = None,
    max_probability: Annotated[float | None, Query(description="instead of band: upper bound, exclusive below 1")] = None,
    model: Annotated[str | None, Query(description="'name' or 'name:version'")] = None,
    limit: Annotated[int, Query(description="1..1000")] = 50,
    offset: Annotated[int, Query(description=">= 0")] = 0,
    after: Annotated[str | None, Query(description="the `next` token of the previous page")] = None,
) -> BandPageOut:
    label, probabilities = requested_range(band, min_probability, max_probability)
    page = use_case.execute(probabilities, ModelFilter.parse(model) if model else None, page_request(limit, offset, after))
    return BandPageOut(**PredictionPageOut.from_domain(page).model_dump(), band=BandOut.from_range(label, probabilities))


@router.get("/predictions/bands", dependencies=[PREDICT], response_model=BandCountsOut, summary="How many predictions fall in each band")
@inject
def count_by_band(
    use_case: Annotated[CountPredictionsByBand, Depends(Provide[Container.count_predictions_by_band])],
    model: Annotated[str | None, Query(description="'name' or 'name:version'")] = None,
) -> BandCountsOut:
    return BandCountsOut.from_domain(use_case.execute(ModelFilter.parse(model) if model else None), model)
