
from typing import Annotated

from dependency_injector.wiring import inject

from entrypoints.api.di import Provide
from fastapi import APIRouter, Depends, Response

from churn.model_types import CATALOG
from churn.use_cases.get_training_job import GetTrainingJob
from churn.use_cases.start_training import StartTraining
from entrypoints.api.schemas import ErrorOut, JobOut, ModelTypeListOut, ModelTypeOut, TrainIn
from entrypoints.api.security import ADMIN, PREDICT
from entrypoints.container import Container

router = APIRouter(tags=["training"])


@router.get("/model-types", dependencies=[PREDICT], response_model=ModelTypeListOut, summary="Trainable model types and their hyperparameters")
def list_model_types() -> ModelTypeListOut:
    return ModelTypeListOut(items=[ModelTypeOut.from_domain(m) for m in CATALOG])


@router.post(
    "/train", dependencies=[ADMIN],
    status_code=202,
    response_model=JobOut,
    responses={400: {"model": ErrorOut}, 404: {"model": ErrorOut}},
    summary="Queue a training job; poll the Location header",
)
@inject
def train(
    body: TrainIn,
    response: Response,
    use_case: Annotated[StartTraining, Depends(Provide[Container.start_training])],
    get_job: Annotated[GetTrainingJob, Depends(Provide[Container.get_training_job])],
) -> JobOut:
    job = use_case.execute(
        body.dataset, body.model_type, body.hyperparameters, body.name, body.activate, body.features, body.exclude, body.options()
    )
    job, position = get_job.execute(job.job_id)  # as it is now: a worker may have started it already
    response.headers["Location"] = f"/jobs/{job.job_id}"
    return JobOut.from_domain(job, position)


@router.get("/jobs/{job_id}", dependencies=[ADMIN], response_model=JobOut, responses={404: {"model": ErrorOut}}, summary="A training job's state")
@inject
def get_job(job_id: str, use_case: Annotated[GetTrainingJob, Depends(Provide[Container.get_training_job])]) -> JobOut:
    job, position = use_case.execute(job_id)
    return JobOut.from_domain(job, position)
