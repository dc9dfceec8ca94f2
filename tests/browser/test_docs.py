"""/docs and /redoc render the API's operations with nothing fetched from outside."""

from __future__ import annotations

import threading
import time

import pytest
import uvicorn

from entrypoints.api.app import create_app
from tests.api.conftest import make_container
from tests.e2e.conftest import free_port


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    app = create_app(make_container(tmp_path_factory.mktemp("docs")))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def offsite(watched, base_url) -> list[str]:
    return [url for url in watched.urls if not url.startswith((base_url, "data:", "blob:"))]


def test_swagger_ui_renders_the_operations_offline(watched, base_url):
    page = watched.page
    page.goto(f"{base_url}/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=15000)
    paths = set(page.locator(".opblock-summary-path").all_inner_texts())
    assert {"/predict", "/train", "/clients/{customer_id}/predictions"} <= {p.replace("\u200b", "") for p in paths}
    assert offsite(watched, base_url) == [] and watched.errors == []


def test_redoc_renders_the_operations_offline(watched, base_url):
    page = watched.page
    page.goto(f"{base_url}/redoc")
    page.get_by_role("heading", name="Score one customer and store it").wait_for(timeout=15000)
    assert page.locator("h1").first.inner_text().startswith("churn")
    assert offsite(watched, base_url) == [] and watched.errors == []
