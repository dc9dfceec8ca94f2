
from typing import Annotated

from dependency_injector.wiring import inject

from entrypoints.api.di import Provide
from fastapi import APIRouter, Depends, File, Form, HTTPException, Response, UploadFile

from churn.use_cases.list_datasets import ListDatasets
from churn.use_cases.register_dataset import RegisterDataset
from entrypoints.api.schemas import DatasetListOut, DatasetOut, ErrorOut
from entrypoints.api.security import ADMIN
from entrypoints.container import Container

router = APIRouter(tags=["datasets"])


def read_upload(file: UploadFile, max_mb: float) -> bytes:
    """The upload's bytes; 413 past the limit without reading the rest."""
    limit = int(max_mb * 1024 * 1024)
    content = file.file.read(limit + 1)
    if len(content) > limit:
        raise HTTPException(413, f"the file is larger than the {max_mb:g} MB limit (CHURN_MAX_UPLOAD_MB)")
    return content


@router.post(
    "/datasets", dependencies=[ADMIN],
    status_code=201,
    response_model=DatasetOut,
    responses={400: {"model": ErrorOut}, 409: {"model": ErrorOut}, 413: {"model": ErrorOut}},
    summary="Upload a CSV data set for training",
)
@inject
def upload_dataset(
    response: Response,
    file: Annotated[UploadFile, File(description="CSV with a header row")],
    name: Annotated[str, Form(description="[a-z0-9][a-z0-9_-]{0,63}", examples=["telco-2026-11"])],
    target: Annotated[str, Form(description="the binary target column", examples=["Churn"])],
    use_case: Annotated[RegisterDataset, Depends(Provide[Container.register_dataset])],
    max_mb: Annotated[float, Depends(Provide[Container.config.max_upload_mb])],
    id_column: Annotated[str | None, Form(description="customer id column, excluded from features")] = None,
) -> DatasetOut:
    dataset = use_case.execute(name, read_upload(file, max_mb), target, id_column or None)
    response.headers["Location"] = f"/datasets/{dataset.name}"
    return DatasetOut.from_domain(dataset)


@router.get("/datasets", dependencies=[ADMIN], response_model=DatasetListOut, summary="List uploaded data sets, oldest first")
@inject
def list_datasets(use_case: Annotated[ListDatasets, Depends(Provide[Container.list_datasets])]) -> DatasetListOut:
    return DatasetListOut(items=[DatasetOut.from_domain(d) for d in use_case.execute()])
