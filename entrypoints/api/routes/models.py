
from typing import Annotated

from dependency_injector.wiring import inject

from entrypoints.api.di import Provide
from fastapi import APIRouter, Depends

from churn.use_cases.compare_models import CompareModels
from churn.use_cases.get_model_version import GetModelVersion
from churn.use_cases.list_models import ListModels
from churn.use_cases.use_model import GetActiveModel, UseModel
from entrypoints.api.schemas import (
    CompareIn,
    CompareOut,
    ComparedVersionOut,
    ErrorOut,
    ModelDetailOut,
    ModelListOut,
    ModelOut,
    UseModelIn,
)
from entrypoints.api.security import ADMIN, PREDICT
from entrypoints.container import Container

router = APIRouter(tags=["models"])


@router.get("/models", dependencies=[PREDICT], response_model=ModelListOut, summary="Trained model versions, newest first")
@inject
def list_models(use_case: Annotated[ListModels, Depends(Provide[Container.list_models])]) -> ModelListOut:
    return ModelListOut(items=[ModelOut.from_domain(e, full=False) for e in use_case.execute()])


@router.get("/models/active", dependencies=[PREDICT], response_model=ModelOut, responses={404: {"model": ErrorOut}}, summary="The active model")
@inject
def active_model(use_case: Annotated[GetActiveModel, Depends(Provide[Container.get_active_model])]) -> ModelOut:
    return ModelOut.from_domain(use_case.execute())


@router.post(
    "/use-model", dependencies=[ADMIN],
    response_model=ModelOut,
    responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
    summary="Load a version and make it the active model",
)
@inject
def use_model(body: UseModelIn, use_case: Annotated[UseModel, Depends(Provide[Container.use_model])]) -> ModelOut:
    return ModelOut.from_domain(use_case.execute(body.name, body.version))


@router.get(
    "/models/{name}/{version}", dependencies=[PREDICT],
    response_model=ModelDetailOut,
    responses={400: {"model": ErrorOut}, 404: {"model": ErrorOut}},
    summary="One version: full feature schema, metrics, cross-validation spread, threshold, reliability diagram, ROC and PR curves",
)
@inject
def model_version(
    name: str, version: int, use_case: Annotated[GetModelVersion, Depends(Provide[Container.get_model_version])]
) -> ModelDetailOut:
    return ModelDetailOut.from_domain(use_case.execute(name, version))


@router.post(
    "/models/compare", dependencies=[ADMIN],
    response_model=CompareOut,
    responses={400: {"model": ErrorOut}, 404: {"model": ErrorOut}},
    summary="Score several versions on one data set's hold-out rows, metrics side by side",
)
@inject
def compare_models(body: CompareIn, use_case: Annotated[CompareModels, Depends(Provide[Container.compare_models])]) -> CompareOut:
    rows, compared = use_case.execute(body.versions, body.dataset)
    return CompareOut(dataset=body.dataset, holdout_rows=rows, items=[ComparedVersionOut.from_domain(c) for c in compared])
