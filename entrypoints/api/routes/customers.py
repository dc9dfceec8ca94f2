
from typing import Annotated

from dependency_injector.wiring import inject

from entrypoints.api.di import Provide
from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile

from churn.columns import ReadOptions
from churn.errors import InvalidPageError
from churn.model import PageRequest
from churn.offset_cursor import OffsetCursor
from churn.use_cases.customers import GetCustomer, ImportCustomers, ListCustomers
from churn.use_cases.list_predictions import ListCustomerPredictions
from churn.use_cases.predict_stored_customer import PredictStoredCustomer
from entrypoints.api.routes.datasets import read_upload
from entrypoints.api.schemas import (
    CustomerOut,
    CustomerPageOut,
    ErrorOut,
    ImportReportOut,
    PredictionOut,
    PredictionPageOut,
)
from entrypoints.api.security import ADMIN, PREDICT
from entrypoints.container import Container

router = APIRouter(tags=["customers"])


@router.post(
    "/clients/import", dependencies=[ADMIN],
    response_model=ImportReportOut,
    responses={400: {"model": ErrorOut}, 413: {"model": ErrorOut}},
    summary="Upsert customers from a CSV by id (idempotent)",
)
@inject
def import_customers(
    file: Annotated[UploadFile, File(description="CSV with a header row and an id column")],
    use_case: Annotated[ImportCustomers, Depends(Provide[Container.import_customers])],
    max_mb: Annotated[float, Depends(Provide[Container.config.max_upload_mb])],
    id_column: Annotated[str, Form(description="the customer id column")] = "customerID",
    delimiter: Annotated[str | None, Form(description="',', ';', '|' or tab (default: detected)")] = None,
    encoding: Annotated[str | None, Form(description="e.g. utf-8, cp1252, utf-16 (default: detected)")] = None,
    decimal: Annotated[str | None, Form(description="'.' or ',' (default: detected)")] = None,
) -> ImportReportOut:
    options = ReadOptions.parse(delimiter, encoding, decimal)
    return ImportReportOut.from_domain(use_case.execute(read_upload(file, max_mb), id_column, options=options))


@router.get("/clients", dependencies=[PREDICT], response_model=CustomerPageOut, responses={400: {"model": ErrorOut}}, summary="Customers by id")
@inject
def list_customers(
    use_case: Annotated[ListCustomers, Depends(Provide[Container.list_customers])],
    limit: Annotated[int, Query(description="1..1000")] = 50,
    offset: Annotated[int, Query(description=">= 0")] = 0,
    after: Annotated[str | None, Query(description="the `next` token of the previous page")] = None,
) -> CustomerPageOut:
    return CustomerPageOut.from_domain(use_case.execute(offset_page(limit, offset, after)))


@router.get("/clients/{customer_id}", dependencies=[PREDICT], response_model=CustomerOut, responses={404: {"model": ErrorOut}}, summary="One customer")
@inject
def get_customer(customer_id: str, use_case: Annotated[GetCustomer, Depends(Provide[Container.get_customer])]) -> CustomerOut:
    return CustomerOut.from_domain(use_case.execute(customer_id))


@router.post(
    "/clients/{customer_id}/predict", dependencies=[PREDICT],
    response_model=PredictionOut,
    responses={400: {"model": ErrorOut}, 404: {"model": ErrorOut}, 503: {"model": ErrorOut}},
    summary="Score a stored customer with the active model",
)
@inject
def predict_customer(
    customer_id: str,
    request: Request,
    use_case: Annotated[PredictStoredCustomer, Depends(Provide[Container.predict_stored_customer])],
) -> PredictionOut:
    prediction = use_case.execute(customer_id)
    request.app.state.metrics.record_predictions((prediction,))
    return PredictionOut.from_domain(prediction)


@router.get(
    "/clients/{customer_id}/predictions", dependencies=[PREDICT],
    response_model=PredictionPageOut,
    responses={400: {"model": ErrorOut}, 404: {"model": ErrorOut}},
    summary="A customer's prediction history, newest first",
)
@inject
def customer_predictions(
    customer_id: str,
    use_case: Annotated[ListCustomerPredictions, Depends(Provide[Container.list_customer_predictions])],
    limit: Annotated[int, Query(description="1..1000")] = 50,
    offset: Annotated[int, Query(description=">= 0")] = 0,
    after: Annotated[str | None, Query(description="the `next` token of the previous page")] = None,
) -> PredictionPageOut:
    return PredictionPageOut.from_domain(use_case.execute(customer_id, offset_page(limit, offset, after)))


def offset_page(limit: int, offset: int, after: str | None) -> PageRequest:
    """InvalidPageError (400) for a token that is not a `next` of these pages, or with an offset too."""
    if after is None:
        return PageRequest(limit, offset)
    if offset:
        raise InvalidPageError("use either offset or after, not both")
    return PageRequest(limit, OffsetCursor.decode(after).offset)
