"""The console's pages and fragments through TestClient: security headers, escaping, keys and
roles, languages. What a person sees in a browser is tested in tests/browser."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from entrypoints.api.app import create_app
from entrypoints.console.messages import PT_BR
from entrypoints.console.routes import PAGES
from tests.api.conftest import make_container, train, upload

HOSTILE = "<script>alert(1)</script>"
ADMIN, PREDICT = "admin-key-for-tests-01", "predict-key-for-tests1"
TEMPLATES = Path(__file__).resolve().parents[2] / "entrypoints" / "console" / "templates"


class Inline(HTMLParser):
    """Collects what a strict CSP would refuse: inline scripts, style attributes and elements, on* handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.refused: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.refused.append("inline <script>")
        if tag == "style":
            self.refused.append("<style> element")
        self.refused += [f"{tag}[{n}]" for n in names if n == "style" or n.startswith("on")]


def refused_by_csp(html: str) -> list[str]:
    parser = Inline()
    parser.feed(html)
    return parser.refused


@pytest.fixture
def trained(client):
    hostile_csv = ("account,plan,calls,left\n" + "".join(
        f"A{i},{HOSTILE if i % 3 else 'basic'},{i % 7},{1 if i % 4 == 0 else 0}\n" for i in range(240)
    )).encode()
    assert upload(client, name="hostile", content=hostile_csv, target="left", id_column="account").status_code == 201
    train(client, dataset="hostile", activate=True)  # a toy signal: may be below the promotion floor
    client.post("/predict", json={"customer_id": "=HYPERLINK(\"http://x\")", "features": {"plan": HOSTILE, "calls": 3}})
    return client


def test_root_redirects_to_the_console(client):
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"] == "/ui"


@pytest.mark.parametrize("path", ["/ui", "/ui/models", "/ui/risk?band=75-100", "/ui/customers/A1", "/ui/models/x/1", "/ui/score"])
def test_every_page_forbids_framing_and_inline_code(client, path):
    response = client.get(path)
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert refused_by_csp(response.text) == []
    assert '"includeIndicatorStyles": false' in response.text


def test_shells_hold_no_data_and_load_their_fragment(client):
    html = client.get("/ui/customers/A%2F1?lang=en").text
    assert 'hx-get="/ui/part/customers/A%2F1?lang=en"' in html


def test_fragments_show_hostile_names_as_text_and_pass_a_strict_csp(trained):
    for path in ("/ui/part/overview", "/ui/part/models", "/ui/part/models/churn-logistic_regression/1", "/ui/part/score",
                 "/ui/part/risk?band=", "/ui/part/datasets", "/ui/part/train?dataset=hostile"):
        response = trained.get(path)
        assert response.status_code == 200, path
        assert HOSTILE not in response.text, path
        assert refused_by_csp(response.text) == [], path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in trained.get("/ui/part/score").text


def test_the_risk_list_shows_each_customer_once_with_reasons_and_exports_through_the_api(trained):
    features = {"plan": HOSTILE, "calls": 6}
    trained.post("/predict", json={"customer_id": "twice", "features": features})
    trained.post("/predict", json={"customer_id": "twice", "features": features})
    html = trained.get("/ui/part/risk?band=").text
    assert html.count(">twice</a>") == 1  # the latest risk per customer
    assert 'class="reason up"' in html or 'class="reason down"' in html
    assert 'data-download="/clients.csv?' in trained.get("/ui/part/risk?band=75-100").text
    assert 'data-download="/clients.csv?band=75-100"' in trained.get("/ui/part/risk?band=75-100").text


def test_scoring_by_hand_names_the_field_to_fix(trained):
    response = trained.post("/ui/part/score", data={"model": "churn-logistic_regression:1", "f0": "basic", "f1": "three"})
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.text and "expected a number" in response.text
    scored = trained.post("/ui/part/score", data={"model": "churn-logistic_regression:1", "customer_id": "c-9", "f0": "basic", "f1": "3,5"})
    assert scored.status_code == 200 and "See this customer" in scored.text
    assert trained.get("/clients/c-9/predictions").json()["total"] == 1


def test_a_preview_stores_nothing_and_the_upload_does(client):
    from tests.support.datasets import subscriptions_csv

    files = {"file": ("Subs 2026.csv", subscriptions_csv(), "text/csv")}
    preview = client.post("/ui/part/datasets/preview", files=files)
    assert preview.status_code == 200 and "Trainable:" in preview.text
    assert 'value="subs-2026"' in preview.text  # a name suggested from the file name
    assert client.get("/datasets").json()["items"] == []
    assert 'value="left" selected' in preview.text and 'value="account" selected' in preview.text  # target and id guessed
    assert "categorical" in preview.text and "numeric" in preview.text  # each column's kind, from the profile
    stored = client.post("/ui/part/datasets", files=files, data={"name": "subs", "target": "left", "id_column": "account"})
    assert stored.status_code == 200 and "Data set stored:" in stored.text
    assert [d["name"] for d in client.get("/datasets").json()["items"]] == ["subs"]


def test_a_data_set_shows_its_profile_and_is_removed_after_a_confirmation(client):
    assert upload(client).status_code == 201
    assert "numeric" in client.get("/ui/part/datasets/subs").text
    assert "Remove this data set?" in client.get("/ui/part/datasets/subs/remove").text
    removed = client.post("/ui/part/datasets/subs/remove")
    assert removed.status_code == 200 and "Data set removed:" in removed.text
    assert client.get("/datasets").json()["items"] == []


def test_a_bad_value_is_an_error_fragment_not_json(client):
    response = client.get("/ui/part/risk?band=10-20")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in response.text


@pytest.fixture
def keyed(tmp_path):
    container = make_container(tmp_path, api_keys=f"{ADMIN}:admin,{PREDICT}:predict")
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        yield client


def test_with_keys_fragments_need_one_and_admin_parts_need_admin(keyed):
    assert keyed.get("/ui").status_code == 200  # the shell, which asks for the key
    assert keyed.get("/ui/part/overview").status_code == 401
    assert keyed.get("/ui/part/overview", headers={"X-API-Key": "wrong-key-wrong-key"}).status_code == 401
    seen = keyed.get("/ui/part/overview", headers={"X-API-Key": PREDICT})
    assert seen.status_code == 200 and seen.headers["x-console-role"] == "predict"
    assert "Running trainings" not in seen.text
    for path in ("/ui/part/train", "/ui/part/datasets", "/ui/part/jobs/x"):
        assert keyed.get(path, headers={"X-API-Key": PREDICT}).status_code == 403, path
    assert keyed.post("/ui/part/models/m/1/activate", headers={"X-API-Key": PREDICT}).status_code == 403
    assert keyed.get("/ui/part/datasets", headers={"X-API-Key": ADMIN}).headers["x-console-role"] == "admin"


def test_language_from_accept_language_then_the_switch(client):
    assert "Visão geral" in client.get("/ui", headers={"Accept-Language": "pt-BR,pt;q=0.9"}).text
    assert "Visão geral" not in client.get("/ui", headers={"Accept-Language": "en-GB,pt;q=0.3"}).text
    switched = client.get("/ui/lang/pt-BR?next=/ui/models", follow_redirects=False)
    assert switched.headers["location"] == "/ui/models" and "churn_lang=pt-BR" in switched.headers["set-cookie"]
    assert client.get("/ui/lang/pt-BR?next=//evil.example", follow_redirects=False).headers["location"] == "/ui"
    client.cookies.set("churn_lang", "pt-BR")
    assert "Modelos" in client.get("/ui/part/models", headers={"Accept-Language": "en"}).text


def test_every_message_has_a_portuguese_translation():
    used = set()
    for template in TEMPLATES.rglob("*.html"):
        used |= {a or b for a, b in re.findall(r"""_\("([^"]+)"\)|_\('([^']+)'\)""", template.read_text())}
    used |= {title for _, title in PAGES.values()}
    assert sorted(used - PT_BR.keys()) == []


def test_scoring_the_whole_base_from_the_overview_shows_its_progress(client):
    assert upload(client).status_code == 201
    train(client)
    assert 'hx-get="/ui/part/scoring-runs"' in client.get("/ui/part/overview").text
    assert "No scoring run yet" in client.get("/ui/part/scoring-runs").text
    started = client.post("/ui/part/scoring-runs")
    assert started.status_code == 200 and "Scoring every stored customer with" in started.text
    assert "churn-logistic_regression v1" in client.get("/ui/part/scoring-runs").text


def test_the_train_form_offers_the_profile_features_and_sends_every_option(client):
    assert upload(client).status_code == 201
    form = client.get("/ui/part/train?dataset=subs&model_type=svc").text
    for feature in ("age", "plan", "monthly_fee", "support_calls", "autopay"):
        assert f'name="feature" value="{feature}" checked' in form
    assert 'name="offered" value="account"' not in form and "account (id)" in form  # the id is not offered
    assert '<option value="none">' not in form  # an SVC has no probabilities without calibration
    assert "default for this type (isotonic)" in form
    assert 'value="if_better" checked' in form

    offered = ["age", "plan", "monthly_fee", "support_calls", "autopay"]
    started = client.post("/ui/part/train", data={
        "dataset": "subs", "model_type": "logistic_regression", "name": "picked", "offered": offered,
        "feature": ["age", "support_calls", "autopay"], "calibration": "sigmoid", "threshold_rule": "cost",
        "cost_fn": "5", "cost_fp": "1", "cv_folds": "3", "activate": "false",
    })
    assert started.status_code == 200, started.text
    job = client.get("/models/picked/1").json()
    assert sorted(f["name"] for f in job["features"]) == ["age", "autopay", "support_calls"]
    assert job["calibration"] == "sigmoid" and job["cross_validation"]["folds"] == 3
    assert job["evaluation"]["threshold_rule"] == {"cost_false_negative": 5.0, "cost_false_positive": 1.0}
    assert client.get("/models/active").status_code == 404  # activate=false: registered only, nothing active
    job_id = re.search(r"/ui/jobs/([0-9a-f]{32})", started.text).group(1)
    page = client.get(f"/ui/part/jobs/{job_id}").text
    assert 'data-activated="no"' in page and "Kept: not activated." in page and "activate was false" in page


def test_the_job_page_says_why_if_better_promoted_or_kept(client):
    assert upload(client).status_code == 201
    first = client.post("/ui/part/train", data={"dataset": "subs", "model_type": "logistic_regression", "cv_folds": "2", "activate": "if_better"})
    assert 'data-activated="yes"' in first.text and "no model was active" in first.text
    again = client.post("/ui/part/train", data={"dataset": "subs", "model_type": "logistic_regression", "cv_folds": "2",
                                                "threshold_rule": "fixed", "threshold_value": "0,4"})
    assert 'data-activated="no"' in again.text and "does not beat the active" in again.text  # the same model is not better


def test_a_refused_training_option_is_an_error_fragment(client):
    assert upload(client).status_code == 201
    refused = client.post("/ui/part/train", data={"dataset": "subs", "model_type": "logistic_regression", "cv_folds": "1"})
    assert refused.status_code == 400 and "cv_folds must be 0" in refused.text
    refused = client.post("/ui/part/train", data={"dataset": "subs", "model_type": "logistic_regression", "threshold_value": "1.5"})
    assert refused.status_code == 400 and "strictly between 0 and 1" in refused.text


def test_compare_scores_every_version_on_the_same_hold_out_rows(client):
    assert upload(client).status_code == 201
    train(client, activate=True)
    train(client, model_type="decision_tree", exclude=["plan"])
    asked = client.post("/models/compare", json={"versions": ["churn-logistic_regression:1", "churn-decision_tree:1"], "dataset": "subs"}).json()
    html = client.get("/ui/part/models/compare?v=churn-logistic_regression:1&v=churn-decision_tree:1").text
    assert f"{asked['holdout_rows']} hold-out rows of subs" in html  # the data set the first version trained on
    for item in asked["items"]:
        assert f'{item["metrics"]["roc_auc"]:.3f}' in html  # what the service measured on those rows, not the stored metrics
    assert 'class="meter best"' in html and "CV roc_auc (training)" in html


def test_compare_names_a_version_the_data_set_cannot_score(client):
    assert upload(client).status_code == 201
    train(client, activate=True)
    narrow = "account,age,left\n" + "".join(f"B{i},{20 + i % 50},{1 if i % 3 == 0 else 0}\n" for i in range(240))
    assert upload(client, name="narrow", content=narrow.encode()).status_code == 201
    train(client, dataset="narrow", name="narrow-lr")
    html = client.get("/ui/part/models/compare?v=narrow-lr:1&v=churn-logistic_regression:1&dataset=narrow").text
    assert "not scored" in html and "lacks 4 of its features" in html and "monthly_fee" in html


def test_a_version_page_draws_what_its_training_measured(client):
    assert upload(client).status_code == 201
    train(client, activate=True, threshold="max_f1", cv_folds=3)
    version = client.get("/models/churn-logistic_regression/1").json()
    html = client.get("/ui/part/models/churn-logistic_regression/1").text
    confusion = version["evaluation"]["confusion"]
    caught = re.search(r"churners caught</th><td class=\"num\">(\d+)<", html).group(1)
    assert int(caught) == confusion["true_positive"]
    assert f'{version["threshold"]:.3f}' in html and "the one with the best F1" in html
    assert f'{version["cross_validation"]["mean"]["roc_auc"]:.3f} ± {version["cross_validation"]["std"]["roc_auc"]:.3f}' in html
    assert html.count('<path class="curve" d="M') == 3  # ROC, PR, reliability
    assert html.count('class="bar metric" x="160"') == 5  # one importance per feature


def test_realised_performance_starts_empty_and_fills_in_from_an_outcome_upload(client):
    assert upload(client).status_code == 201
    train(client, activate=True)
    page = "/ui/part/models/churn-logistic_regression/1"
    assert "has made no prediction for a named customer yet" in client.get(page).text
    for i in range(20):
        features = {"age": 30 + i, "plan": "basic", "monthly_fee": 10, "support_calls": i % 10, "autopay": "no"}
        assert client.post("/predict", json={"customer_id": f"c{i}", "features": features}).status_code == 200
    assert "No outcome recorded for this version&#39;s predictions yet." in client.get(page).text
    soon = (datetime.now(timezone.utc) + timedelta(days=2)).date().isoformat()
    outcomes = "customer_id,churned,observed_at\n" + "".join(f"c{i},{'yes' if i % 10 > 5 else 'no'},{soon}\n" for i in range(20))
    shown = client.post(f"{page}/outcomes", files={"file": ("o.csv", (outcomes + f"c1,maybe,{soon}\n").encode(), "text/csv")},
                        data={"horizon_days": "30"})
    assert shown.status_code == 200 and "Outcomes recorded: 20 new" in shown.text and "line 22:" in shown.text
    measured = client.get("/models/churn-logistic_regression/1/performance", params={"horizon_days": 30}).json()
    assert measured["matched"] == 20
    assert "outcomes matched</dt><dd>20<" in shown.text and f"<dt>roc_auc</dt><dd>{measured['roc_auc']:.3f}<" in shown.text
    assert '<path class="curve" d="M' in shown.text  # the reliability diagram on real outcomes
    assert "No outcome recorded" in client.get(f"{page}/performance?horizon_days=1").text  # outcomes 2 days later: outside


def test_the_drift_section_shows_each_feature_psi_with_its_reading(client):
    assert upload(client).status_code == 201
    train(client, activate=True)
    page = "/ui/part/models/churn-logistic_regression/1"
    assert "No prediction of this version in this period" in client.get(page).text
    for i in range(30):  # customers unlike the training data: old, many support calls
        features = {"age": 79, "plan": "premium", "monthly_fee": 30.0, "support_calls": 9, "autopay": "no"}
        assert client.post("/predict", json={"customer_id": f"d{i}", "features": features}).status_code == 200
    measured = client.get("/models/churn-logistic_regression/1/drift", params={"days": 7}).json()
    html = client.get(f"{page}/drift?days=7").text
    assert f"{measured['predictions']} predictions measured" in html
    shown = re.findall(r'<tr>\s*<th scope="row">([^<]+)</th>\s*<td>[^<]*</td>\s*<td class="num">([^<]+)</td>\s*<td><span class="badge drift-(\w+)"', html)
    expected = sorted(measured["features"], key=lambda f: (-f["psi"], f["feature"]))
    assert [(name, psi, reading) for name, psi, reading in shown] == [(f["feature"], f"{f['psi']:.3f}", f["reading"]) for f in expected]


def test_the_upload_preview_takes_the_kinds_and_the_churn_value_the_api_takes(client):
    """A file the service would refuse as it stands (a blank column, a target in no known language)
    is made trainable from the preview itself: the column marked ignored, the churn value chosen."""
    rows = "".join(f"A{i},{i % 9},,{'sai' if i % 3 == 0 else 'fica'}\n" for i in range(60))
    files = {"file": ("kunden.csv", ("konto,anrufe,notiz,gekuendigt\n" + rows).encode(), "text/csv")}
    refused = client.post("/ui/part/datasets/preview", files=files, data={"target": "gekuendigt", "id_column": "konto"})
    assert refused.status_code == 200 and "Not trainable as it stands:" in refused.text
    assert 'name="column_type"' in refused.text and 'name="positive_label"' in refused.text
    chosen = {"target": "gekuendigt", "id_column": "konto", "column_type": ["notiz=ignored"], "positive_label": "sai"}
    preview = client.post("/ui/part/datasets/preview", files=files, data=chosen)
    assert "Trainable:" in preview.text and 'value="notiz=ignored" selected' in preview.text and 'value="sai" selected' in preview.text
    stored = client.post("/ui/part/datasets", files=files, data={"name": "kunden", **chosen})
    assert stored.status_code == 200 and "Data set stored:" in stored.text
    dataset = client.get("/datasets/kunden").json()
    assert dataset["positive_label"] == "sai" and dataset["features"] == ["anrufe"]
