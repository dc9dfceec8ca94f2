from typing import Annotated

from dependency_injector.wiring import inject

from entrypoints.api.di import Provide
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from churn.use_cases.check_readiness import CheckReadiness
from entrypoints.api.schemas import HealthOut, ReadyOut
from entrypoints.container import Container

router = APIRouter(tags=["operations"])


@router.get("/health", response_model=HealthOut, summary="Liveness: 200 while the process is up")
def health() -> HealthOut:
    return HealthOut(status="ok")


@router.get(
    "/ready",
    response_model=ReadyOut,
    responses={503: {"model": ReadyOut}},
    summary="Readiness: store, registry and active model checked; 503 names the failing part",
)
@inject
def ready(request: Request, use_case: Annotated[CheckReadiness, Depends(Provide[Container.check_readiness])]):
    result = use_case.execute()
    checks, ready = dict(result.checks), result.ready
    if not request.app.state.started.is_set():
        checks["startup"], ready = "in progress", False
    body = ReadyOut(status="ready" if ready else "unavailable", checks=checks).model_dump()
    return JSONResponse(body, status_code=200 if ready else 503, headers=None if ready else {"Retry-After": "5"})


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
