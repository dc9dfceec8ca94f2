import csv
import io

from typing import Annotated

from dependency_injector.wiring import inject

from entrypoints.api.di import Provide
from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import StreamingResponse

from churn.columns import ReadOptions
from churn.errors import InvalidPageError
from churn.paging import PageRequest
from churn.versions import ModelFilter
from churn.offset_cursor import OffsetCursor
from churn.use_cases.count_customers_by_band import CountCustomersByBand
from churn.use_cases.customers import GetCustomer, ImportCustomers, ListCustomers
from churn.use_cases.export_customers_by_risk import ExportCustomersByRisk
from churn.use_cases.list_customers_by_risk import ListCustomersByRisk
from churn.use_cases.list_predictions import ListCustomerPredictions
from churn.use_cases.predict_stored_customer import PredictStoredCustomer
from entrypoints.api.routes.datasets import read_upload
from churn.bands import requested_range
from entrypoints.api.routes.predictions import page_request
from entrypoints.api.schemas import (
    BandCountsOut,
    BandOut,
    BandPageOut,
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


RISK_QUERY = ("band", "min_probability", "max_probability", "model")
"""Any of these turns GET /clients into the latest-risk list (its `after` is then a band-order cursor)."""


@router.get(
    "/clients",
    dependencies=[PREDICT],
    response_model=CustomerPageOut | BandPageOut,
    responses={400: {"model": ErrorOut}, 200: {"content": {"text/csv": {}}}},
    summary="Customers by id; with band, min/max_probability or model: by their latest risk, highest first",
)
@inject
def list_customers(
    request: Request,
    use_case: Annotated[ListCustomers, Depends(Provide[Container.list_customers])],
    by_risk: Annotated[ListCustomersByRisk, Depends(Provide[Container.list_customers_by_risk])],
    export: Annotated[ExportCustomersByRisk, Depends(Provide[Container.export_customers_by_risk])],
    band: Annotated[str | None, Query(description="0-25, 25-50, 50-75 or 75-100: customers whose latest risk is there", examples=["75-100"])] = None,
    min_probability: Annotated[float | None, Query(description="instead of band: lower bound, inclusive")] = None,
    max_probability: Annotated[float | None, Query(description="instead of band: upper bound, exclusive below 1")] = None,
    model: Annotated[str | None, Query(description="'name' or 'name:version' that made the latest prediction")] = None,
    limit: Annotated[int, Query(description="1..1000")] = 50,
    offset: Annotated[int, Query(description=">= 0")] = 0,
    after: Annotated[str | None, Query(description="the `next` token of the previous page (repeat the other parameters)")] = None,
):
    """Without a risk filter: the stored customers by id. With one (or `Accept: text/csv`): one row per
    customer, its latest prediction with its reasons, highest probability first, cursor-paged; as CSV,
    the whole list streamed."""
    wants_csv = "text/csv" in request.headers.get("accept", "")
    if wants_csv:
        return _csv(export, band, min_probability, max_probability, model)
    if not any(request.query_params.get(name) is not None for name in RISK_QUERY):
        return CustomerPageOut.from_domain(use_case.execute(offset_page(limit, offset, after)))
    label, probabilities = requested_range(band, min_probability, max_probability)
    page = by_risk.execute(probabilities, ModelFilter.parse(model) if model else None, page_request(limit, offset, after))
    return BandPageOut(**PredictionPageOut.from_domain(page).model_dump(), band=BandOut.from_range(label, probabilities))


@router.get(
    "/clients.csv",
    dependencies=[PREDICT],
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}, 400: {"model": ErrorOut}},
    summary="Customers by latest risk as CSV for a CRM (streamed)",
)
@inject
def export_customers(
    export: Annotated[ExportCustomersByRisk, Depends(Provide[Container.export_customers_by_risk])],
    band: Annotated[str | None, Query(description="0-25, 25-50, 50-75 or 75-100", examples=["75-100"])] = None,
    min_probability: Annotated[float | None, Query(description="instead of band: lower bound, inclusive")] = None,
    max_probability: Annotated[float | None, Query(description="instead of band: upper bound, exclusive below 1")] = None,
    model: Annotated[str | None, Query(description="'name' or 'name:version'")] = None,
) -> StreamingResponse:
    """customer_id, churn_probability, band, model, scored_at, reasons_up, reasons_down; cells a
    spreadsheet would run as formulas start with an apostrophe."""
    return _csv(export, band, min_probability, max_probability, model)


def _csv(export: ExportCustomersByRisk, band, min_probability, max_probability, model) -> StreamingResponse:
    _, probabilities = requested_range(band, min_probability, max_probability)
    rows = export.execute(probabilities, ModelFilter.parse(model) if model else None)
    first = next(rows)  # the header: errors in the query surface before the 200 is sent

    def lines():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(first)
        for n, row in enumerate(rows, start=1):
            writer.writerow(row)
            if n % 1000 == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(
        lines(), media_type="text/csv; charset=utf-8", headers={"content-disposition": 'attachment; filename="customers-by-risk.csv"'}
    )


@router.get("/clients/bands", dependencies=[PREDICT], response_model=BandCountsOut, summary="How many customers have their latest risk in each band")
@inject
def count_customers_by_band(
    use_case: Annotated[CountCustomersByBand, Depends(Provide[Container.count_customers_by_band])],
    model: Annotated[str | None, Query(description="'name' or 'name:version' that made the latest prediction")] = None,
) -> BandCountsOut:
    return BandCountsOut.from_domain(use_case.execute(ModelFilter.parse(model) if model else None), model)


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
