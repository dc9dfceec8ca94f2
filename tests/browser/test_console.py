"""What a data scientist and a retention lead do in the console, in a real Chromium against a real
server: upload a data set (its hostile column and category names shown as text, no script run),
train and watch the job, activate a version with a confirmation, compare, score a customer by hand,
find them in the risk list, export the CSV; both languages; a phone-width screen."""

from __future__ import annotations

import csv
import io
import random
import re
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from tests.browser.conftest import PHONE
from tests.browser.conftest import start_server

pytestmark = pytest.mark.e2e

HOSTILE_COLUMN = '<img src=x onerror="window.__pwned=1;alert(1)">'
HOSTILE_CATEGORY = "<script>window.__pwned=2;alert(2)</script>"
CUSTOMER = "ui-risky-0001"


def hostile_csv(rows: int = 300) -> bytes:  # enough for 10 churners in the hold-out (issue 10)
    """A small churn data set whose column and category names are markup and script."""
    rng = random.Random(7)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["customer_id", HOSTILE_COLUMN, "plan", "tenure", "left"])
    for i in range(rows):
        plan = rng.choice([HOSTILE_CATEGORY, "basic", "premium"])
        calls = rng.randint(0, 9)
        tenure = rng.randint(1, 72)
        risk = 0.1 + 0.08 * calls + (0.25 if plan == HOSTILE_CATEGORY else 0) - tenure / 200
        writer.writerow([f"H{i:04d}", calls, plan, tenure, "yes" if rng.random() < risk else "no"])
    return out.getvalue().encode()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = start_server(tmp_path_factory, "console")
    yield s
    s.stop()


def open_page(watched, server, path: str):
    watched.page.goto(server.url + path)
    watched.page.wait_for_selector("main#content > :not(.loading)")
    return watched.page


def assert_no_script_ran(watched) -> None:
    assert watched.page.evaluate("window.__pwned === undefined"), "injected markup ran"
    assert watched.dialogs == []
    assert watched.errors == [], watched.errors  # a CSP refusal would be reported here


def test_root_redirects_to_an_overview_that_says_no_model_yet(watched, server):
    page = open_page(watched, server, "/")
    assert page.url == server.url + "/ui"
    assert page.get_by_text("No model yet: train one.").is_visible()
    assert page.locator("#ready-title").is_visible()
    assert page.get_by_role("row", name="banco").count() == 0  # English chosen for an en-US browser
    assert page.locator("table.kv").inner_text().count("ok") >= 2  # store and registry, as /ready sees them
    watched.shoot("overview-empty")
    assert_no_script_ran(watched)


def test_upload_previews_the_profile_before_storing_and_shows_markup_as_text(watched, server):
    page = open_page(watched, server, "/ui/datasets")
    page.set_input_files("#upload-file", files=[{"name": "hostile.csv", "mimeType": "text/csv", "buffer": hostile_csv()}])
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#dataset-preview")
    preview.get_by_text("Trainable:").wait_for()
    assert HOSTILE_COLUMN in preview.inner_text()
    assert HOSTILE_CATEGORY in preview.inner_text()
    assert page.locator("#ds-target").input_value() == "left"
    assert page.locator("#ds-id").input_value() == "customer_id"
    with httpx.Client(base_url=server.url) as http:
        assert [d["name"] for d in http.get("/datasets").json()["items"]] == ["sample"]  # nothing stored yet
    watched.shoot("datasets-preview")
    page.get_by_role("button", name="Upload this data set").click()
    page.get_by_text("Data set stored:").wait_for()
    assert page.get_by_role("cell", name="hostile", exact=True).is_visible()
    watched.shoot("datasets")
    assert_no_script_ran(watched)


def train_through_the_form(watched, server, dataset: str, name: str, activation: str, options=None) -> None:
    """Trains a random forest through the form; `options` also ticks off a feature, picks a
    calibration, a threshold rule and the folds."""
    page = open_page(watched, server, f"/ui/train?dataset={dataset}")
    page.get_by_label("Model type").select_option("random_forest")
    page.get_by_label("n_estimators").wait_for()  # the hyperparameters of the chosen type, with their ranges
    assert page.get_by_label("n_estimators").get_attribute("max") == "1000"
    assert page.get_by_label("Calibration").input_value() == ""  # the type's default...
    assert "default for this type (isotonic)" in page.get_by_label("Calibration").inner_text()  # ...named
    page.get_by_label("n_estimators").fill("30")
    page.get_by_label("Registered name").fill(name)
    page.get_by_label("Cross-validation folds").fill("3")
    if options:
        page.locator("#train-features").get_by_label(options["drop"], exact=True).uncheck()
        page.get_by_label("Calibration").select_option(options["calibration"])
        page.get_by_label("The one with the best F1").check()
    page.get_by_label(activation).check()
    page.get_by_role("button", name="Start training").click()
    page.locator("#job-area section.job").wait_for()
    watched.shoot(f"train-{name}-running")
    page.locator('#job-area section.job[data-status="succeeded"]').wait_for(timeout=120_000)
    assert page.locator("#job-area").get_by_text("Trained and registered as").is_visible()
    page.locator("#job-area").get_by_role("link", name=re.compile("^[0-9a-f]{32}$")).click()  # the job's own page
    page.locator('section.job[data-status="succeeded"]').wait_for()
    watched.shoot(f"job-{name}")


def test_train_watch_the_job_then_activate_with_a_confirmation(watched, server):
    watched.page.goto(server.url + "/ui/train")
    watched.page.get_by_label("Model type").wait_for()
    watched.shoot("train")
    train_through_the_form(watched, server, "sample", "telco-rf", "Always activate it",
                           {"drop": "gender", "calibration": "sigmoid"})
    assert watched.page.locator(".promotion").get_attribute("data-activated") == "yes"
    assert "activate was true" in watched.page.locator(".promotion").inner_text()
    assert "best F1" in watched.page.locator(".asked").inner_text()
    train_through_the_form(watched, server, "hostile", "hostile-rf", "Activate it if it is better")
    kept = watched.page.locator(".promotion")  # other features than the active model: kept, and why
    assert kept.get_attribute("data-activated") == "no" and "Kept: not activated." in kept.inner_text()
    assert "telco-rf:1" in kept.inner_text() or "roc_auc" in kept.inner_text()

    page = open_page(watched, server, "/ui/models")
    assert page.locator("tr.active-row").inner_text().split()[0] == "telco-rf"
    watched.shoot("models")
    page.get_by_role("link", name="telco-rf v1").click()  # the evaluation of a real training, end to end
    page.get_by_role("heading", name="Cross-validation", exact=True).wait_for()
    with httpx.Client(base_url=server.url) as http:
        version = http.get("/models/telco-rf/1").json()
    panel = page.locator("#model-panel")
    assert "gender" not in [f["name"] for f in version["features"]] and version["calibration"] == "sigmoid"
    assert f'{version["threshold"]:.3f}' in panel.locator(".big").inner_text()
    assert "the one with the best F1" in panel.inner_text()
    assert "3 folds on the training split" in panel.inner_text()
    assert panel.locator("figure.square svg path.curve").count() == 3  # ROC, PR, reliability
    assert panel.locator("figure.hbars rect.bar").count() == min(15, len(version["features"]))
    caught = panel.get_by_role("row", name="churners caught").locator("td").inner_text()
    assert int(caught.replace(",", "")) == version["evaluation"]["confusion"]["true_positive"]
    watched.shoot("model-version-evaluation")

    page = open_page(watched, server, "/ui/models")
    page.get_by_role("link", name="hostile-rf v1").click()
    page.get_by_role("heading", name="Hold-out metrics").wait_for()
    assert HOSTILE_COLUMN in page.locator("#model-panel").inner_text()  # the schema, as text
    assert page.get_by_text("has made no prediction for a named customer yet").is_visible()  # realised performance: empty
    watched.shoot("model-version")
    page.get_by_role("button", name="Activate this version").click()
    page.get_by_text("Make this version the active model?").wait_for()
    watched.shoot("model-activate-confirm")
    page.get_by_role("button", name="Yes, activate").click()
    page.get_by_text("This version is now the active model").wait_for()
    with httpx.Client(base_url=server.url) as http:
        active = http.get("/models/active").json()
    assert (active["name"], active["version"]) == ("hostile-rf", 1)
    assert_no_script_ran(watched)


def compare_row(page, metric: str):
    return page.locator("table.compare tbody tr").filter(has=page.get_by_role("rowheader", name=metric, exact=True))


def test_compare_two_versions_on_the_same_rows(watched, server):
    page = open_page(watched, server, "/ui/models")
    page.get_by_label("Compare telco-rf v1").check()
    page.get_by_label("Compare hostile-rf v1").check()
    page.get_by_role("button", name="Compare selected").click()
    page.wait_for_selector("table.compare")
    header = page.locator("table.compare thead").text_content()
    assert "telco-rf v1" in header and "hostile-rf v1" in header
    assert page.get_by_label("Scored on the hold-out of").input_value() == "hostile"  # the first version's own data set
    assert compare_row(page, "roc_auc").is_visible()
    assert "lacks" in compare_row(page, "Not scored").inner_text()  # telco-rf needs other columns
    watched.shoot("models-compare")
    page.get_by_label("Scored on the hold-out of").select_option("sample")
    page.get_by_role("button", name="Compare on this data set").click()
    page.get_by_text("hold-out rows of sample").wait_for()
    with httpx.Client(base_url=server.url) as http:
        asked = http.post("/models/compare", json={"versions": ["hostile-rf:1", "telco-rf:1"], "dataset": "sample"}).json()
    scored = next(i for i in asked["items"] if i["metrics"])
    assert f'{scored["metrics"]["roc_auc"]:.3f}' in compare_row(page, "roc_auc").inner_text()
    watched.shoot("models-compare-other-data-set")
    assert_no_script_ran(watched)


def test_score_a_customer_by_hand_then_find_them_in_the_risk_list_and_export(watched, server, tmp_path):
    page = open_page(watched, server, "/ui/score")
    plan = page.get_by_label("plan")
    assert HOSTILE_CATEGORY in plan.inner_text()  # a category shown as an option's text
    assert page.get_by_label(HOSTILE_COLUMN).input_value() != ""  # filled from the example
    plan.select_option(HOSTILE_CATEGORY)
    page.get_by_label(HOSTILE_COLUMN).fill("9")
    page.get_by_label("tenure").fill("2")
    page.get_by_label("Customer id").fill(CUSTOMER)
    page.get_by_role("button", name="Score", exact=True).click()
    page.locator("#score-result").wait_for()
    assert "Churn probability" in page.locator("#score-result").inner_text()
    watched.shoot("score")
    page.get_by_label("tenure").fill("two")
    page.get_by_role("button", name="Score", exact=True).click()
    page.get_by_text("expected a number").wait_for()  # the problem shown by its field
    assert page.get_by_label("tenure").get_attribute("aria-invalid") == "true"
    watched.errors.clear()  # the browser logs that 400, as it should

    page = open_page(watched, server, "/ui/risk?band=")
    row = page.get_by_role("row").filter(has_text=CUSTOMER)
    assert row.count() == 1
    watched.shoot("risk")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    saved = tmp_path / "risk.csv"
    download.value.save_as(saved)
    exported = list(csv.DictReader(saved.open()))
    assert [r["customer_id"] for r in exported] == [CUSTOMER]
    assert all(CUSTOMER not in url for url in watched.urls if "risk.csv" in url)

    row.get_by_role("link", name=CUSTOMER).click()
    page.get_by_role("heading", name=f"Customer {CUSTOMER}").wait_for()
    assert page.get_by_text("Not in the customer base").is_visible()
    assert page.locator("#history-title").inner_text().endswith("(1)")
    watched.shoot("customer")
    assert_no_script_ran(watched)


def test_realised_performance_from_an_outcome_file(watched, server):
    rng = random.Random(3)
    with httpx.Client(base_url=server.url) as http:  # more customers scored by the CRM, then who really left
        for i in range(24):
            features = {HOSTILE_COLUMN: rng.randint(0, 9), "plan": rng.choice(["basic", "premium"]), "tenure": rng.randint(1, 72)}
            assert http.post("/predict", json={"customer_id": f"ui-later-{i:02d}", "features": features}).status_code == 200
    soon = (datetime.now(timezone.utc) + timedelta(days=1)).date().isoformat()
    outcomes = "customer_id,churned,observed_at\n" + f"{CUSTOMER},yes,{soon}\n" + "".join(
        f"ui-later-{i:02d},{'yes' if i % 3 == 0 else 'no'},{soon}\n" for i in range(24))
    page = open_page(watched, server, "/ui/models/hostile-rf/1")
    page.set_input_files("#outcomes-file", files=[{"name": "outcomes.csv", "mimeType": "text/csv", "buffer": outcomes.encode()}])
    page.get_by_role("button", name="Record outcomes", exact=True).click()
    page.get_by_text("Outcomes recorded: 25 new").wait_for()
    with httpx.Client(base_url=server.url) as http:
        measured = http.get("/models/hostile-rf/1/performance").json()
    assert measured["matched"] == 25
    section = page.locator("#performance")
    assert section.get_by_text("outcomes matched").is_visible() and "25" in section.locator(".stats").inner_text()
    assert section.locator("figure.square svg path.curve").count() == 1  # reliability on real outcomes
    with httpx.Client(base_url=server.url) as http:
        drift = http.get("/models/hostile-rf/1/drift").json()
    rows = page.locator("#drift table.drift tbody tr")  # the probability, then each feature with its PSI and reading
    assert rows.count() == 1 + len(drift["features"]) and drift["predictions"] == 25
    assert f'{drift["probability"]["psi"]:.3f}' in rows.first.inner_text()
    watched.shoot("model-performance")
    assert_no_script_ran(watched)


def test_the_overview_shows_the_active_model_and_the_predictions(watched, server):
    page = open_page(watched, server, "/ui")
    assert page.get_by_role("link", name="hostile-rf v1").is_visible()
    assert page.locator("#bands-title + figure svg rect.bar").count() == 4
    assert page.locator("#days-title ~ figure svg rect.bar").count() == 14
    watched.shoot("overview")
    assert_no_script_ran(watched)


def test_a_data_set_page_shows_its_profile_and_a_removal_asks_first(watched, server):
    page = open_page(watched, server, "/ui/datasets/hostile")
    assert page.get_by_role("heading", name="Profile").is_visible()
    assert HOSTILE_COLUMN in page.locator("table").inner_text()
    watched.shoot("dataset")
    page = open_page(watched, server, "/ui/datasets")
    page.get_by_role("button", name="Remove hostile").click()
    page.get_by_text("Remove this data set?").wait_for()
    watched.shoot("datasets-remove-confirm")
    page.get_by_role("button", name="Yes, remove").click()
    page.get_by_text("Data set removed:").wait_for()
    assert page.get_by_role("link", name="hostile", exact=True).count() == 0
    assert_no_script_ran(watched)


def test_a_stored_customer_shows_their_record(watched, server):
    with httpx.Client(base_url=server.url) as http:
        first = http.get("/clients", params={"limit": 1}).json()["items"][0]
    page = open_page(watched, server, f"/ui/customers/{first['customer_id']}")
    record = page.locator("#record-title + table")
    assert "tenure" in record.inner_text()
    assert page.get_by_role("button", name="Score now with the active model").is_visible()
    watched.shoot("customer-record")


def test_every_page_fits_a_phone_screen(browser, server):
    page = browser.new_page()
    page.set_viewport_size(PHONE)
    try:
        pages = (("/ui", "overview"), ("/ui/models", "models"), ("/ui/risk?band=", "risk"), ("/ui/score", "score"),
                 ("/ui/train", "train"), ("/ui/models/telco-rf/1", "model-version"), ("/ui/models/hostile-rf/1", "model-performance"),
                 ("/ui/models/compare?v=telco-rf:1&v=hostile-rf:1", "models-compare"), ("/ui/datasets", "datasets"),
                 ("/ui/datasets/sample", "dataset"), (f"/ui/customers/{CUSTOMER}", "customer"))
        for path, name in pages:
            page.goto(server.url + path)
            page.wait_for_selector("main#content > :not(.loading)")
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 1, f"{path} scrolls sideways by {overflow}px at phone width"
            page.screenshot(path=str(_phone_shot(name)), full_page=True)
    finally:
        page.close()


def _phone_shot(name: str):
    from tests.browser.conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"phone-{name}.png"


def test_portuguese_from_accept_language_and_from_the_switch(browser, server):
    page = browser.new_page()  # a browser set to Brazilian Portuguese (the module's browser is en-US):
    page.route("**/*", lambda route: route.continue_(headers={**route.request.headers, "accept-language": "pt-BR,pt;q=0.9,en;q=0.5"}))
    shots = _phone_shot("..").parent
    try:
        page.goto(server.url + "/ui/models")
        page.get_by_role("heading", name="Modelos").wait_for()
        assert page.get_by_role("link", name="Visão geral").is_visible()
        page.screenshot(path=str(shots / "pt-models.png"), full_page=True)
        page.goto(server.url + "/ui/models/telco-rf/1")
        page.get_by_role("heading", name="Desempenho real").wait_for()
        assert "o de melhor F1" in page.locator("#model-panel").inner_text()
        page.screenshot(path=str(shots / "pt-model-version.png"), full_page=True)
        page.goto(server.url + "/ui/train")
        page.get_by_label("Limiar", exact=True).wait_for()
        page.get_by_label("Partições da validação cruzada").fill("1")
        page.get_by_role("button", name="Começar o treino").click()
        page.get_by_text("as partições da validação cruzada devem ser 0 (desligada)").wait_for()  # the domain's refusal, in Portuguese
        page.screenshot(path=str(shots / "pt-train-refused.png"), full_page=True)
        page.goto(server.url + "/ui/datasets")
        page.set_input_files("#upload-file", files=[{"name": "dup.csv", "mimeType": "text/csv", "buffer": b"id,age,age,left\n1,2,3,0\n"}])
        page.get_by_role("button", name="Pré-visualizar").click()
        page.get_by_text("nomes de coluna repetidos no cabeçalho: age; renomeie-os").wait_for()
        page.screenshot(path=str(shots / "pt-datasets-refused.png"), full_page=True)
        page.get_by_role("link", name="English").click()
        page.get_by_role("heading", name="Data sets", exact=True).wait_for()  # the switch wins over the browser's language
    finally:
        page.close()
        browser.clear_cookies()
