"""The console's pages: thin entry points calling the same use cases as the API routes.

Each page URL (`/ui/...`) answers a data-free shell; the shell loads its content from the matching
fragment (`/ui/part/...`) with htmx, which sends the browser session's API key as X-API-Key. So a
key is never in a URL or a cookie, and every fragment checks it as the API does."""

from typing import Annotated, Any, Callable
from urllib.parse import quote, urlencode

from dependency_injector.wiring import inject
from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from churn.errors import ChurnError, DriftReferenceMissingError, InvalidFeaturesError, ModelNotFoundError
from churn.bands import Band, ProbabilityRange
from churn.features import FeatureKind
from churn.paging import PageRequest
from churn.predictions import PredictionCursor
from churn.versions import ModelFilter, ModelRef
from churn.model_types import CATALOG, ParamKind
from churn.model_types import model_type as find_model_type
from churn.promotion import PromotionRule
from churn.training_options import DEFAULT_CV_FOLDS, MAX_CV_FOLDS
from churn.use_cases.check_readiness import CheckReadiness
from churn.use_cases.compare_models import CompareModels
from churn.use_cases.count_customers_by_band import CountCustomersByBand
from churn.use_cases.count_predictions_per_day import CountPredictionsPerDay
from churn.use_cases.customers import GetCustomer, ListCustomers
from churn.use_cases.get_dataset import GetDataset
from churn.use_cases.get_scoring_run import GetScoringRun
from churn.use_cases.get_training_job import GetTrainingJob
from churn.use_cases.start_scoring_run import StartScoringRun
from churn.use_cases.list_datasets import ListDatasets
from churn.use_cases.list_models import ListModels
from churn.use_cases.list_customers_by_risk import ListCustomersByRisk
from churn.use_cases.list_predictions import CountPredictionsByBand, ListCustomerPredictions
from churn.use_cases.list_running_jobs import ListRunningJobs
from churn.use_cases.measure_drift import MeasureDrift
from churn.use_cases.measure_realised_performance import MeasureRealisedPerformance
from churn.use_cases.predict_churn import PredictChurn
from churn.use_cases.predict_stored_customer import PredictStoredCustomer
from churn.use_cases.preview_dataset import PreviewDataset
from churn.use_cases.record_outcomes import RecordOutcomes
from churn.use_cases.register_dataset import RegisterDataset
from churn.use_cases.remove_dataset import RemoveDataset
from churn.use_cases.start_training import StartTraining
from churn.use_cases.use_model import GetActiveModel, UseModel
from entrypoints.api.di import Provide
from entrypoints.api.routes.datasets import read_upload
from entrypoints.console import training_form
from entrypoints.console.messages import LANGUAGES
from entrypoints.console.rendering import LANG_COOKIE, ConsoleRoute, render, require_admin, role_of
from entrypoints.container import Container

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

RISK_PAGE = 25
HISTORY_LIMIT = 200
KEY_METRICS = ("roc_auc", "accuracy", "precision", "recall", "f1")

# page URL → (navigation entry, title); each page's content is the fragment at /ui/part/<same path>.
PAGES: dict[str, tuple[str, str]] = {
    "/ui": ("overview", "Overview"),
    "/ui/models": ("models", "Models"),
    "/ui/models/compare": ("models", "Compare versions"),
    "/ui/models/{name}/{version}": ("models", "Model version"),
    "/ui/train": ("train", "Train a model"),
    "/ui/jobs/{job_id}": ("train", "Training job"),
    "/ui/datasets": ("datasets", "Data sets"),
    "/ui/datasets/{name}": ("datasets", "Data set"),
    "/ui/risk": ("risk", "Customers at risk"),
    "/ui/customers/{customer_id:path}": ("risk", "Customer"),
    "/ui/score": ("score", "Score a customer"),
}


def _shell(nav: str, title: str) -> Callable:
    async def shell(request: Request) -> Response:
        raw = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
        part = "/ui/part" + (raw[len("/ui"):] or "/overview")
        if request.url.query:
            part += "?" + request.url.query
        keys_required = request.app.state.api_keys.enabled
        return render(request, "shell.html", nav=nav, title=title, part=part, keys_required=keys_required)

    return shell


for _path, (_nav, _title) in PAGES.items():
    router.add_api_route(_path, _shell(_nav, _title), methods=["GET"], name=f"console:{_path}")


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/ui", status_code=307)


@router.get("/ui/part/empty")
async def empty(request: Request) -> Response:
    """Nothing: what a cancelled confirmation is replaced with."""
    return Response("", media_type="text/html")


@router.get("/ui/lang/{code}")
async def switch_language(code: str, next: str = "/ui") -> RedirectResponse:
    """Remembers the chosen language in a cookie (the language only; never the key)."""
    target = next if next.startswith("/ui") and not next.startswith("//") else "/ui"
    response = RedirectResponse(target, status_code=303)
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, path="/", samesite="strict", httponly=True)
    return response


def _or_none(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except (ModelNotFoundError, ChurnError):
        return None


# ------------------------------------------------------------------ overview


@router.get("/ui/part/overview")
@inject
def overview(
    request: Request,
    active: Annotated[GetActiveModel, Depends(Provide[Container.get_active_model])],
    bands: Annotated[CountPredictionsByBand, Depends(Provide[Container.count_predictions_by_band])],
    customer_bands: Annotated[CountCustomersByBand, Depends(Provide[Container.count_customers_by_band])],
    customers: Annotated[ListCustomers, Depends(Provide[Container.list_customers])],
    readiness: Annotated[CheckReadiness, Depends(Provide[Container.check_readiness])],
    running: Annotated[ListRunningJobs, Depends(Provide[Container.list_running_jobs])],
    per_day: Annotated[CountPredictionsPerDay, Depends(Provide[Container.count_predictions_per_day])],
) -> Response:
    role = role_of(request)
    counts = bands.execute(None)
    latest = customer_bands.execute(None)
    return render(
        request,
        "parts/overview.html",
        role=role,
        active=_or_none(active.execute),
        bands=[(band.value, counts.get(band, 0)) for band in Band],
        customer_bands=[(band.value, latest.get(band, 0)) for band in Band],
        predictions=sum(counts.values()),
        customers=customers.execute(PageRequest(1, 0)).total,
        readiness=readiness.execute(),
        jobs=running.execute() if role == "admin" else None,
        per_day=per_day.execute(14),
        key_metrics=KEY_METRICS,
    )


@router.get("/ui/part/scoring-runs")
@inject
def scoring_runs(request: Request, use_case: Annotated[GetScoringRun, Depends(Provide[Container.get_scoring_run])]) -> Response:
    """The newest scoring runs with their progress (admin); follows itself while one is unfinished."""
    require_admin(request)
    return render(request, "parts/scoring_runs.html", runs=use_case.recent(5), started=None)


@router.post("/ui/part/scoring-runs")
@inject
def start_scoring_run(
    request: Request,
    start: Annotated[StartScoringRun, Depends(Provide[Container.start_scoring_run])],
    listing: Annotated[GetScoringRun, Depends(Provide[Container.get_scoring_run])],
) -> Response:
    """Score every stored customer with the active model, in the background."""
    require_admin(request)
    run = start.execute(None, None)
    return render(request, "parts/scoring_runs.html", runs=listing.recent(5), started=run)


# ------------------------------------------------------------------ models


@router.get("/ui/part/models")
@inject
def models(request: Request, use_case: Annotated[ListModels, Depends(Provide[Container.list_models])]) -> Response:
    return render(request, "parts/models.html", role=role_of(request), entries=use_case.execute(), key_metrics=KEY_METRICS)


def _entry(use_case: ListModels, name: str, version: int):
    for entry in use_case.execute():
        if entry.record.ref.name == name and entry.record.ref.version == version:
            return entry
    raise ModelNotFoundError(f"no model version {name}:{version}")


@router.get("/ui/part/models/compare")
@inject
def compare(
    request: Request,
    use_case: Annotated[CompareModels, Depends(Provide[Container.compare_models])],
    listing: Annotated[ListModels, Depends(Provide[Container.list_models])],
    datasets: Annotated[ListDatasets, Depends(Provide[Container.list_datasets])],
    v: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI copies defaults
    dataset: str = "",
) -> Response:
    """The versions scored by the service on the same rows: one data set's hold-out (POST /models/compare)."""
    role = require_admin(request)
    found = datasets.execute()
    if len(v) < 2 or not found:
        return render(request, "parts/compare.html", role=role, compared=None, versions=v, datasets=found, dataset=dataset)
    entries = {f"{e.record.ref}": e for e in listing.execute()}
    first = entries.get(f"{ModelFilter.parse(v[0]).name}:{ModelFilter.parse(v[0]).version}")
    names = [d.name for d in found]
    chosen = dataset or (first.record.summary.dataset if first and first.record.summary.dataset in names else names[-1])
    rows, compared = use_case.execute(v, chosen)
    columns = [(f"{c.ref}", None if c.metrics is None else dict(c.metrics)) for c in compared]
    return render(
        request, "parts/compare.html", role=role, compared=compared, holdout_rows=rows, versions=v, datasets=found, dataset=chosen,
        entries=[entries.get(f"{c.ref}") for c in compared], columns=columns,
    )


HORIZONS = (30, 90, 180, 365)
DRIFT_PERIODS = (7, 30, 90)


@router.get("/ui/part/models/{name}/{version}")
@inject
def model_version(
    request: Request,
    name: str,
    version: int,
    use_case: Annotated[ListModels, Depends(Provide[Container.list_models])],
    performance: Annotated[MeasureRealisedPerformance, Depends(Provide[Container.measure_realised_performance])],
    drift: Annotated[MeasureDrift, Depends(Provide[Container.measure_drift])],
) -> Response:
    entry = _entry(use_case, name, version)
    return render(request, "parts/model.html", role=role_of(request), entry=entry, flash=None,
                  **_performance(entry.record.ref, performance, 90, None), **_drift(entry.record.ref, drift, 30))


def _drift(ref: ModelRef, use_case: MeasureDrift, days: int) -> dict[str, Any]:
    """The drift section's context; a version trained before drift references has an empty state."""
    try:
        report, missing = use_case.execute(ref, days), False
    except DriftReferenceMissingError:
        report, missing = None, True
    return {"drift": report, "drift_missing": missing, "drift_days": days, "drift_periods": DRIFT_PERIODS}


@router.get("/ui/part/models/{name}/{version}/drift")
@inject
def model_drift(
    request: Request, name: str, version: int, use_case: Annotated[MeasureDrift, Depends(Provide[Container.measure_drift])], days: int = 30
) -> Response:
    """PSI of each feature and of the probability over the period (GET /models/{name}/{version}/drift)."""
    ref = ModelRef(name, version)
    return render(request, "parts/drift.html", role=role_of(request), ref=ref, **_drift(ref, use_case, days))


def _performance(ref: ModelRef, use_case: MeasureRealisedPerformance, horizon_days: int, report: Any) -> dict[str, Any]:
    return {"ref": ref, "performance": use_case.execute(ref, horizon_days), "horizons": HORIZONS, "report": report}


@router.get("/ui/part/models/{name}/{version}/performance")
@inject
def realised_performance(
    request: Request,
    name: str,
    version: int,
    use_case: Annotated[MeasureRealisedPerformance, Depends(Provide[Container.measure_realised_performance])],
    horizon_days: int = 90,
) -> Response:
    """How the version did on the outcomes observed after its predictions (GET /models/{name}/{version}/performance)."""
    return render(request, "parts/performance.html", role=role_of(request), **_performance(ModelRef(name, version), use_case, horizon_days, None))


@router.post("/ui/part/models/{name}/{version}/outcomes")
@inject
def import_outcomes(
    request: Request,
    name: str,
    version: int,
    file: Annotated[UploadFile, File()],
    record: Annotated[RecordOutcomes, Depends(Provide[Container.record_outcomes])],
    use_case: Annotated[MeasureRealisedPerformance, Depends(Provide[Container.measure_realised_performance])],
    max_mb: Annotated[float, Depends(Provide[Container.config.max_upload_mb])],
    horizon_days: Annotated[int, Form()] = 90,
) -> Response:
    """Who left (or stayed), from a CSV (POST /outcomes/import); then this version's performance again."""
    role = require_admin(request)
    report = record.import_csv(read_upload(file, max_mb))
    return render(request, "parts/performance.html", role=role, **_performance(ModelRef(name, version), use_case, horizon_days, report))


@router.get("/ui/part/models/{name}/{version}/activate")
@inject
def confirm_activation(
    request: Request, name: str, version: int, use_case: Annotated[ListModels, Depends(Provide[Container.list_models])]
) -> Response:
    require_admin(request)
    return render(request, "parts/activate_confirm.html", entry=_entry(use_case, name, version))


@router.post("/ui/part/models/{name}/{version}/activate")
@inject
def activate(
    request: Request,
    name: str,
    version: int,
    use_model: Annotated[UseModel, Depends(Provide[Container.use_model])],
    listing: Annotated[ListModels, Depends(Provide[Container.list_models])],
    performance: Annotated[MeasureRealisedPerformance, Depends(Provide[Container.measure_realised_performance])],
    drift: Annotated[MeasureDrift, Depends(Provide[Container.measure_drift])],
) -> Response:
    role = require_admin(request)
    use_model.execute(name, version)
    entry = _entry(listing, name, version)
    return render(request, "parts/model.html", role=role, entry=entry, flash="activated",
                  **_performance(entry.record.ref, performance, 90, None), **_drift(entry.record.ref, drift, 30))


# ------------------------------------------------------------------ training


def _chosen_dataset(found: list, wanted: str):
    """The data set asked for, else the newest one (None when there is none)."""
    newest_first = list(reversed(found))
    return next((d for d in newest_first if d.name == wanted), newest_first[0] if newest_first else None)


def _train_context(kind) -> dict[str, Any]:
    default, allowed = training_form.calibration_choices(kind.name)
    return {"kind": kind, "ParamKind": ParamKind, "default_calibration": default, "calibrations": allowed}


@router.get("/ui/part/train")
@inject
def train_form(
    request: Request,
    datasets: Annotated[ListDatasets, Depends(Provide[Container.list_datasets])],
    promotion: Annotated[PromotionRule, Depends(Provide[Container.promotion_rule])],
    model_type: str = "logistic_regression",
    dataset: str = "",
) -> Response:
    role = require_admin(request)
    found = datasets.execute()
    return render(
        request, "parts/train.html", role=role, datasets=found, catalog=CATALOG, chosen=_chosen_dataset(found, dataset),
        folds=DEFAULT_CV_FOLDS, max_folds=MAX_CV_FOLDS, promotion=promotion,
        **_train_context(find_model_type(model_type)),
    )


@router.get("/ui/part/train/params")
def train_params(request: Request, model_type: str = "logistic_regression") -> Response:
    """The chosen type's hyperparameters (with their ranges) and calibration methods."""
    require_admin(request)
    return render(request, "parts/train_params.html", **_train_context(find_model_type(model_type)))


@router.get("/ui/part/train/features")
@inject
def train_features(request: Request, use_case: Annotated[GetDataset, Depends(Provide[Container.get_dataset])], dataset: str = "") -> Response:
    """The chosen data set's columns from its profile: features to tick, the others with their role."""
    require_admin(request)
    return render(request, "parts/train_features.html", chosen=use_case.execute(dataset))


@router.post("/ui/part/train")
@inject
async def start_training(
    request: Request,
    use_case: Annotated[StartTraining, Depends(Provide[Container.start_training])],
    get_job: Annotated[GetTrainingJob, Depends(Provide[Container.get_training_job])],
) -> Response:
    require_admin(request)
    submitted = await request.form()
    form = {k: v for k, v in submitted.items() if isinstance(v, str)}
    texts = lambda key: [v for v in submitted.getlist(key) if isinstance(v, str)]  # noqa: E731
    asked = training_form.train_request(form, texts("offered"), texts("feature"))
    job = await run_in_threadpool(
        use_case.execute,
        asked.dataset, asked.model_type, asked.hyperparameters, asked.name, asked.options.activate, None, asked.exclude, asked.options,
    )
    job, position = await run_in_threadpool(get_job.execute, job.job_id)  # as it is now: a worker may have finished it
    return render(request, "parts/job.html", job=job, position=position, started=True)


@router.get("/ui/part/jobs/{job_id}")
@inject
def job(request: Request, job_id: str, use_case: Annotated[GetTrainingJob, Depends(Provide[Container.get_training_job])]) -> Response:
    require_admin(request)
    found, position = use_case.execute(job_id)
    return render(request, "parts/job.html", job=found, position=position, started=False)


# ------------------------------------------------------------------ data sets


@router.get("/ui/part/datasets")
@inject
def datasets(request: Request, use_case: Annotated[ListDatasets, Depends(Provide[Container.list_datasets])]) -> Response:
    role = require_admin(request)
    return render(request, "parts/datasets.html", role=role, datasets=use_case.execute(), added=None, removed=None)


@router.get("/ui/part/datasets/{name}")
@inject
def dataset(request: Request, name: str, use_case: Annotated[GetDataset, Depends(Provide[Container.get_dataset])]) -> Response:
    role = require_admin(request)
    return render(request, "parts/dataset.html", role=role, dataset=use_case.execute(name))


@router.get("/ui/part/datasets/{name}/remove")
@inject
def confirm_removal(request: Request, name: str, use_case: Annotated[GetDataset, Depends(Provide[Container.get_dataset])]) -> Response:
    require_admin(request)
    return render(request, "parts/dataset_remove_confirm.html", dataset=use_case.execute(name))


@router.post("/ui/part/datasets/{name}/remove")
@inject
def remove_dataset(
    request: Request,
    name: str,
    use_case: Annotated[RemoveDataset, Depends(Provide[Container.remove_dataset])],
    listing: Annotated[ListDatasets, Depends(Provide[Container.list_datasets])],
) -> Response:
    role = require_admin(request)
    use_case.execute(name)
    return render(request, "parts/datasets.html", role=role, datasets=listing.execute(), added=None, removed=name)


@router.post("/ui/part/datasets/preview")
@inject
def preview_dataset(
    request: Request,
    file: Annotated[UploadFile, File()],
    use_case: Annotated[PreviewDataset, Depends(Provide[Container.preview_dataset])],
    max_mb: Annotated[float, Depends(Provide[Container.config.max_upload_mb])],
    name: Annotated[str, Form()] = "",
    target: Annotated[str, Form()] = "",
    id_column: Annotated[str, Form()] = "",
    column_type: Annotated[list[str] | None, Form()] = None,
    positive_label: Annotated[str, Form()] = "",
) -> Response:
    require_admin(request)
    preview = use_case.execute(
        name.strip(), read_upload(file, max_mb), target or None, id_column or None, _column_types(column_type), positive_label or None
    )
    suggested = name.strip() or _name_from(file.filename or "")
    return render(request, "parts/dataset_preview.html", preview=preview, name=suggested)


def _column_types(chosen: list[str] | None) -> dict[str, str]:
    """The preview's per-column kind selects, each `column=kind` (automatic ones send nothing)."""
    kinds = {}
    for choice in chosen or ():
        column, _, kind = choice.rpartition("=")
        if column and kind:
            kinds[column] = kind
    return kinds


def _name_from(filename: str) -> str:
    stem = filename.rsplit("/", 1)[-1].rsplit(".", 1)[0].lower()
    cleaned = "".join(c if c.isalnum() or c in "-_" else "-" for c in stem).strip("-_")
    return cleaned[:64]


@router.post("/ui/part/datasets")
@inject
def upload_dataset(
    request: Request,
    file: Annotated[UploadFile, File()],
    name: Annotated[str, Form()],
    target: Annotated[str, Form()],
    use_case: Annotated[RegisterDataset, Depends(Provide[Container.register_dataset])],
    listing: Annotated[ListDatasets, Depends(Provide[Container.list_datasets])],
    max_mb: Annotated[float, Depends(Provide[Container.config.max_upload_mb])],
    id_column: Annotated[str, Form()] = "",
    column_type: Annotated[list[str] | None, Form()] = None,
    positive_label: Annotated[str, Form()] = "",
) -> Response:
    role = require_admin(request)
    added = use_case.execute(
        name.strip(), read_upload(file, max_mb), target, id_column or None,
        column_types=_column_types(column_type) or None, positive_label=positive_label or None,
    )
    return render(request, "parts/datasets.html", role=role, datasets=listing.execute(), added=added, removed=None)


# ------------------------------------------------------------------ customers at risk


def _risk_query(band: str, model: str, min_probability: str) -> tuple[ProbabilityRange, ModelFilter | None]:
    if band:
        probabilities = Band.parse(band).range
    else:
        low = float(min_probability.replace(",", ".")) if min_probability.strip() else 0.0
        probabilities = ProbabilityRange(low, 1.0)
    return probabilities, (ModelFilter.parse(model) if model else None)


@router.get("/ui/part/risk")
@inject
def risk(
    request: Request,
    use_case: Annotated[ListCustomersByRisk, Depends(Provide[Container.list_customers_by_risk])],
    counts: Annotated[CountCustomersByBand, Depends(Provide[Container.count_customers_by_band])],
    listing: Annotated[ListModels, Depends(Provide[Container.list_models])],
    band: str = "75-100",
    model: str = "",
    min_probability: str = "",
    after: str = "",
    page: int = 1,
) -> Response:
    role = role_of(request)
    probabilities, wanted = _risk_query(band, model, min_probability)
    found = use_case.execute(probabilities, wanted, PageRequest(RISK_PAGE, 0, PredictionCursor.decode(after) if after else None))
    by_band = counts.execute(wanted)
    names = sorted({e.record.ref.name for e in listing.execute()})
    query = {"band": band, "model": model, "min_probability": min_probability}
    export = "/clients.csv?" + urlencode({k: v for k, v in query.items() if v})  # the API's own export (issue 13)
    return render(
        request, "parts/risk.html", role=role, page=found, number=page, query=query, names=names,
        bands=[(b.value, by_band.get(b, 0)) for b in Band], quote=quote, export_url=export,
    )


@router.get("/ui/part/customers/{customer_id:path}")
@inject
def customer(
    request: Request,
    customer_id: str,
    get_customer: Annotated[GetCustomer, Depends(Provide[Container.get_customer])],
    history: Annotated[ListCustomerPredictions, Depends(Provide[Container.list_customer_predictions])],
) -> Response:
    return _customer(request, customer_id, get_customer, history, None)


def _customer(request: Request, customer_id: str, get_customer: GetCustomer, history: ListCustomerPredictions, scored) -> Response:
    role = role_of(request)
    record = _or_none(lambda: get_customer.execute(customer_id))
    page = history.execute(customer_id, PageRequest(HISTORY_LIMIT, 0))  # CustomerNotFoundError when neither
    points = [(p.created_at, p.churn_probability, f"{p.model}") for p in page.items]
    return render(request, "parts/customer.html", role=role, customer_id=customer_id, record=record, page=page, points=points, scored=scored)


@router.post("/ui/part/customer-score/{customer_id:path}")
@inject
def score_stored(
    request: Request,
    customer_id: str,
    use_case: Annotated[PredictStoredCustomer, Depends(Provide[Container.predict_stored_customer])],
    get_customer: Annotated[GetCustomer, Depends(Provide[Container.get_customer])],
    history: Annotated[ListCustomerPredictions, Depends(Provide[Container.list_customer_predictions])],
) -> Response:
    role_of(request)
    prediction = use_case.execute(customer_id)
    request.app.state.metrics.record_predictions((prediction,))
    return _customer(request, customer_id, get_customer, history, prediction)


# ------------------------------------------------------------------ scoring by hand


@router.get("/ui/part/score")
@inject
def score_form(request: Request, active: Annotated[GetActiveModel, Depends(Provide[Container.get_active_model])]) -> Response:
    role = role_of(request)
    entry = _or_none(active.execute)
    values = entry.record.summary.schema.example() if entry else {}  # the example a 400 answers with
    return render(request, "parts/score.html", role=role, entry=entry, values=values, customer_id="", problems={}, result=None)


def _features(schema, form: dict[str, str]) -> dict[str, Any]:
    """Form text → feature values by the schema: blank is null (imputed), numbers parsed (a comma
    decimal too); text that is not a number is passed on for the schema check to name."""
    out: dict[str, Any] = {}
    for i, spec in enumerate(schema.features):
        text = (form.get(f"f{i}") or "").strip()
        if not text:
            out[spec.name] = None
        elif spec.kind is FeatureKind.NUMBER:
            try:
                out[spec.name] = float(text.replace(",", "."))
            except ValueError:
                out[spec.name] = text
        else:
            out[spec.name] = text
    return out


@router.post("/ui/part/score")
@inject
async def score(
    request: Request,
    listing: Annotated[ListModels, Depends(Provide[Container.list_models])],
    use_case: Annotated[PredictChurn, Depends(Provide[Container.predict_churn])],
) -> Response:
    role = role_of(request)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    wanted = ModelFilter.parse(form.get("model", ""))
    entry = await run_in_threadpool(_entry, listing, wanted.name, wanted.version or 0)
    schema = entry.record.summary.schema
    features = _features(schema, form)
    customer_id = (form.get("customer_id") or "").strip() or None
    values = {name: ("" if value is None else value) for name, value in features.items()}
    try:
        version = ModelFilter(wanted.name, entry.record.ref.version)
        prediction = await run_in_threadpool(use_case.execute, customer_id, features, version)
    except InvalidFeaturesError as exc:
        problems = {p.feature: p.problem for p in exc.problems}
        return render(request, "parts/score.html", status_code=400, role=role, entry=entry, values=values,
                      customer_id=customer_id or "", problems=problems, result=None)
    request.app.state.metrics.record_predictions((prediction,))
    return render(request, "parts/score.html", role=role, entry=entry, values=values, customer_id=customer_id or "",
                  problems={}, result=prediction)
