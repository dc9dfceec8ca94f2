from typing import Annotated

from dependency_injector.wiring import inject
from fastapi import APIRouter, Depends, Response

from churn.versions import ModelFilter
from churn.scoring_runs import CustomerFilter
from churn.use_cases.get_scoring_run import GetScoringRun
from churn.use_cases.resume_scoring_run import ResumeScoringRun
from churn.use_cases.start_scoring_run import StartScoringRun
from entrypoints.api.di import Provide
from entrypoints.api.schemas import ErrorOut, ScoringRunIn, ScoringRunListOut, ScoringRunOut
from entrypoints.api.security import ADMIN
from entrypoints.container import Container

router = APIRouter(tags=["scoring runs"])


@router.post(
    "/scoring-runs",
    dependencies=[ADMIN],
    status_code=202,
    response_model=ScoringRunOut,
    responses={400: {"model": ErrorOut}, 404: {"model": ErrorOut}, 503: {"model": ErrorOut}},
    summary="Score every stored customer (or the filtered ones) in the background; poll the Location header",
)
@inject
def start_scoring_run(
    body: ScoringRunIn, response: Response, use_case: Annotated[StartScoringRun, Depends(Provide[Container.start_scoring_run])]
) -> ScoringRunOut:
    customers = CustomerFilter(tuple(body.customers.ids), dict(body.customers.attributes)) if body.customers else None
    run = use_case.execute(ModelFilter.parse(body.model) if body.model else None, customers)
    response.headers["Location"] = f"/scoring-runs/{run.run_id}"
    return ScoringRunOut.from_domain(run)


@router.get("/scoring-runs", dependencies=[ADMIN], response_model=ScoringRunListOut, summary="The 50 newest scoring runs")
@inject
def list_scoring_runs(use_case: Annotated[GetScoringRun, Depends(Provide[Container.get_scoring_run])]) -> ScoringRunListOut:
    return ScoringRunListOut(items=[ScoringRunOut.from_domain(run, interrupted) for run, interrupted in use_case.recent()])


@router.get(
    "/scoring-runs/{run_id}", dependencies=[ADMIN], response_model=ScoringRunOut, responses={404: {"model": ErrorOut}}, summary="A scoring run's progress"
)
@inject
def get_scoring_run(run_id: str, use_case: Annotated[GetScoringRun, Depends(Provide[Container.get_scoring_run])]) -> ScoringRunOut:
    run, interrupted = use_case.execute(run_id)
    return ScoringRunOut.from_domain(run, interrupted)


@router.post(
    "/scoring-runs/{run_id}/resume",
    dependencies=[ADMIN],
    status_code=202,
    response_model=ScoringRunOut,
    responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
    summary="Go on with a failed or interrupted run after the last customer it stored",
)
@inject
def resume_scoring_run(run_id: str, use_case: Annotated[ResumeScoringRun, Depends(Provide[Container.resume_scoring_run])]) -> ScoringRunOut:
    return ScoringRunOut.from_domain(use_case.execute(run_id))
