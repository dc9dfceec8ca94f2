from typing import Annotated

from dependency_injector.wiring import inject
from fastapi import APIRouter, Depends, File, Query, UploadFile

from churn.versions import ModelRef
from churn.use_cases.measure_realised_performance import MeasureRealisedPerformance
from churn.use_cases.record_outcomes import RecordOutcomes
from entrypoints.api.di import Provide
from entrypoints.api.routes.datasets import read_upload
from entrypoints.api.schemas import ErrorOut, OutcomeIn, OutcomeReportOut, OutcomesIn, PerformanceOut
from entrypoints.api.security import ADMIN, PREDICT
from entrypoints.container import Container

router = APIRouter(tags=["outcomes"])


@router.post(
    "/outcomes",
    dependencies=[ADMIN],
    response_model=OutcomeReportOut,
    responses={400: {"model": ErrorOut}},
    summary="Record who left (or stayed): one outcome, or {items: [...]}; idempotent per customer and day",
)
@inject
def record_outcomes(
    body: OutcomeIn | OutcomesIn, use_case: Annotated[RecordOutcomes, Depends(Provide[Container.record_outcomes])]
) -> OutcomeReportOut:
    items = body.items if isinstance(body, OutcomesIn) else [body]
    return OutcomeReportOut.from_domain(use_case.execute([(i.customer_id, i.churned, i.observed_at) for i in items]))


@router.post(
    "/outcomes/import",
    dependencies=[ADMIN],
    response_model=OutcomeReportOut,
    responses={400: {"model": ErrorOut}, 413: {"model": ErrorOut}},
    summary="Import outcomes from a CSV (customer_id, churned, observed_at); idempotent",
)
@inject
def import_outcomes(
    file: Annotated[UploadFile, File(description="CSV with a header customer_id, churned, observed_at")],
    use_case: Annotated[RecordOutcomes, Depends(Provide[Container.record_outcomes])],
    max_mb: Annotated[float, Depends(Provide[Container.config.max_upload_mb])],
) -> OutcomeReportOut:
    return OutcomeReportOut.from_domain(use_case.import_csv(read_upload(file, max_mb)))


@router.get(
    "/models/{name}/{version}/performance",
    dependencies=[PREDICT],
    response_model=PerformanceOut,
    responses={400: {"model": ErrorOut}, 404: {"model": ErrorOut}},
    summary="How a version did on the outcomes observed after its predictions",
)
@inject
def realised_performance(
    name: str,
    version: int,
    use_case: Annotated[MeasureRealisedPerformance, Depends(Provide[Container.measure_realised_performance])],
    horizon_days: Annotated[int, Query(description="an outcome counts for predictions made at most this many days before it (1..3650)")] = 90,
) -> PerformanceOut:
    ref = ModelRef(name, version)
    return PerformanceOut.from_domain(ref, use_case.execute(ref, horizon_days))
