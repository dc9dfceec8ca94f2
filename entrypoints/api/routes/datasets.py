
import io
from typing import Annotated

from dependency_injector.wiring import inject

from entrypoints.api.di import Provide
from fastapi import APIRouter, Depends, File, Form, HTTPException, Response, UploadFile
from starlette.formparsers import MultiPartParser

from churn.columns import ReadOptions, parse_column_types
from churn.use_cases.get_dataset import GetDataset
from churn.use_cases.list_datasets import ListDatasets
from churn.use_cases.register_dataset import RegisterDataset
from churn.use_cases.remove_dataset import RemoveDataset
from entrypoints.api.schemas import DatasetListOut, DatasetOut, ErrorOut
from entrypoints.api.security import ADMIN
from entrypoints.container import Container

router = APIRouter(tags=["datasets"])


def spool_uploads_in_memory(max_bytes: int) -> None:
    """Starlette spools a multipart file part to a temporary file on disk past 1 MB, writing each
    chunk on a thread-pool thread; the upload routes then read the whole file back into memory anyway.
    Held in memory up to the upload limit instead (BodyLimitMiddleware refuses larger bodies), the
    file is written once, in the event loop, and read back without a copy. Process-wide (a class
    attribute of Starlette's parser): only ever raised."""
    MultiPartParser.spool_max_size = max(MultiPartParser.spool_max_size, max_bytes)


def read_upload(file: UploadFile, max_mb: float) -> bytes:
    """The upload's bytes; 413 past the limit without reading the rest. A file the multipart parser
    held in memory (`spool_uploads_in_memory`) is handed over without a copy."""
    limit = int(max_mb * 1024 * 1024)
    held = getattr(file.file, "_file", None)  # SpooledTemporaryFile's buffer: a BytesIO until it rolls to disk
    if isinstance(held, io.BytesIO) and file.file.tell() == 0:
        content = held.getvalue()  # shares the buffer (one copy fewer than read)
        held.seek(len(content))
    else:
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
    positive_label: Annotated[str | None, Form(description="the target value that means churn (default: a known churn word)")] = None,
    column_types: Annotated[
        str | None, Form(description='JSON object overriding kinds, e.g. {"zip": "categorical", "signup": "date"}')
    ] = None,
    delimiter: Annotated[str | None, Form(description="',', ';', '|' or tab (default: detected)")] = None,
    encoding: Annotated[str | None, Form(description="e.g. utf-8, cp1252, utf-16 (default: detected)")] = None,
    decimal: Annotated[str | None, Form(description="'.' or ',' (default: detected)")] = None,
) -> DatasetOut:
    options = ReadOptions.parse(delimiter, encoding, decimal)
    dataset = use_case.execute(
        name, read_upload(file, max_mb), target, id_column or None, options, parse_column_types(column_types), positive_label
    )
    response.headers["Location"] = f"/datasets/{dataset.name}"
    return DatasetOut.from_domain(dataset)


@router.get("/datasets", dependencies=[ADMIN], response_model=DatasetListOut, summary="List uploaded data sets, oldest first")
@inject
def list_datasets(use_case: Annotated[ListDatasets, Depends(Provide[Container.list_datasets])]) -> DatasetListOut:
    return DatasetListOut(items=[DatasetOut.from_domain(d) for d in use_case.execute()])


@router.get(
    "/datasets/{name}", dependencies=[ADMIN], response_model=DatasetOut, responses={404: {"model": ErrorOut}},
    summary="A data set with its profile",
)
@inject
def get_dataset(name: str, use_case: Annotated[GetDataset, Depends(Provide[Container.get_dataset])]) -> DatasetOut:
    return DatasetOut.from_domain(use_case.execute(name))


@router.delete(
    "/datasets/{name}", dependencies=[ADMIN], status_code=204, responses={404: {"model": ErrorOut}},
    summary="Remove a data set (models trained on it keep their metadata)",
)
@inject
def remove_dataset(name: str, use_case: Annotated[RemoveDataset, Depends(Provide[Container.remove_dataset])]) -> Response:
    use_case.execute(name)
    return Response(status_code=204)
