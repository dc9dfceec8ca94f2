from typing import Annotated

from dependency_injector.wiring import inject
from fastapi import APIRouter, Depends, Query

from churn.versions import ModelRef
from churn.use_cases.measure_drift import MeasureDrift
from entrypoints.api.di import Provide
from entrypoints.api.schemas import DriftOut, ErrorOut
from entrypoints.api.security import PREDICT
from entrypoints.container import Container

router = APIRouter(tags=["models"])


@router.get(
    "/models/{name}/{version}/drift",
    dependencies=[PREDICT],
    response_model=DriftOut,
    responses={400: {"model": ErrorOut}, 404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
    summary="Population stability index of each feature and of the probability: the period's predictions against the training data",
)
@inject
def drift(
    name: str,
    version: int,
    use_case: Annotated[MeasureDrift, Depends(Provide[Container.measure_drift])],
    days: Annotated[int, Query(description="the period: predictions made in the last this many days (1..3650)")] = 30,
) -> DriftOut:
    ref = ModelRef(name, version)
    return DriftOut.from_domain(ref, use_case.execute(ref, days))
