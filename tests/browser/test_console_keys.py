"""With API keys configured: the console asks for a key, keeps it in the tab's sessionStorage
only, sends it as X-API-Key (never in a URL or a cookie); a predict key sees no admin control, and
the server refuses admin actions to it anyway."""

from __future__ import annotations

import httpx
import pytest

from tests.browser.conftest import start_server
from tests.e2e.conftest import wait_for_job
from tests.support.datasets import subscriptions_csv

pytestmark = pytest.mark.e2e

ADMIN = "console-admin-key-0001"
PREDICT = "console-predict-key-01"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = start_server(tmp_path_factory, "console-keys", CHURN_API_KEYS=f"{ADMIN}:admin,{PREDICT}:predict", CHURN_LOAD_SAMPLE="false")
    with httpx.Client(base_url=s.url, headers={"X-API-Key": ADMIN}, timeout=60) as http:
        http.post("/datasets", files={"file": ("subs.csv", subscriptions_csv(), "text/csv")}, data={"name": "subs", "target": "left", "id_column": "account"})
        for activate in (True, False):
            job = http.post("/train", json={"dataset": "subs", "model_type": "logistic_regression", "activate": activate, "cv_folds": 0})
            assert wait_for_job(http, job.headers["Location"])["status"] == "succeeded"
    yield s
    s.stop()


def sign_in(watched, server, key: str, path: str = "/ui"):
    page = watched.page
    page.goto(server.url + path)
    page.get_by_role("textbox", name="API key").fill(key)
    page.get_by_role("button", name="Continue").click()
    return page


def test_asks_for_a_key_and_refuses_a_wrong_one(watched, server):
    page = watched.page
    page.goto(server.url + "/ui")
    assert page.get_by_role("heading", name="Sign in with an API key").is_visible()
    assert not page.locator("main#content").is_visible()
    watched.shoot("sign-in")
    sign_in(watched, server, "not-a-key-of-this-service")
    page.get_by_text("That key was not accepted").wait_for()
    assert page.evaluate("sessionStorage.getItem('churn.apiKey')") is None


def test_a_predict_key_sees_no_admin_controls(watched, server):
    page = sign_in(watched, server, PREDICT)
    page.get_by_role("heading", name="Active model").wait_for()
    assert page.get_by_role("link", name="Models").is_visible()
    assert not page.get_by_role("link", name="Train", exact=True).is_visible()
    assert not page.get_by_role("link", name="Data sets").is_visible()
    assert page.get_by_role("heading", name="Running trainings").count() == 0
    watched.shoot("overview-predict-key")

    page.goto(server.url + "/ui/models/churn-logistic_regression/2")
    page.get_by_role("heading", name="Hold-out metrics").wait_for()  # the key survived the navigation
    assert page.get_by_role("button", name="Activate this version").count() == 0
    assert page.get_by_role("link", name="Train a model").count() == 0
    watched.shoot("model-version-predict-key")

    page.goto(server.url + "/ui/datasets")
    page.get_by_text("Not allowed with this key.").wait_for()

    assert page.evaluate("sessionStorage.getItem('churn.apiKey')") == PREDICT
    assert page.evaluate("document.cookie").find(PREDICT) == -1
    assert all(PREDICT not in url for url in watched.urls)
    assert not any(PREDICT in c["value"] for c in page.context.cookies())


def test_an_admin_key_gets_the_controls_and_the_server_refuses_them_to_a_predict_key(watched, server):
    page = sign_in(watched, server, ADMIN, "/ui/models/churn-logistic_regression/2")
    page.get_by_role("button", name="Activate this version").wait_for()
    assert page.get_by_role("link", name="Train", exact=True).is_visible()

    with httpx.Client(base_url=server.url, headers={"X-API-Key": PREDICT}) as http:
        refused = http.post("/ui/part/models/churn-logistic_regression/2/activate")
        assert refused.status_code == 403
        assert "Not allowed with this key." in refused.text
        assert http.post("/use-model", json={"name": "churn-logistic_regression", "version": 2}).status_code == 403
        assert http.get("/models/active").json()["version"] == 1
