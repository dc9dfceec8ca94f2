"""What the MLflow UI shows of a churn training, looked at in a real browser.

    .venv/bin/python bench/mlflow_ui.py [--types random_forest logistic_regression] [--out var/screenshots/mlflow-ui]
                                        [--registry-over-http] [--home DIR]

Trains through the service as a user would: `main.py serve` on a fresh CHURN_HOME (its MLflow registry
on the SQLite file there, as configured by default), POST /train on the project's sample for each
type, then stops it and counts the warnings its log holds (MLflow's pickle warning among them). Then
`mlflow server` on that same store (a free 127.0.0.1 port) and headless Chromium (Debian's
`chromium`, driven by Playwright as in tests/browser) load, for the last version trained: the
experiment's run list and logged models, the run's Overview, Model metrics and Artifacts tab (every chart opened), the
logged model's page and the registered version's page. Each page's facts are printed and a
screenshot of each is saved under --out. The UI is opened in its "Model training" mode
(`workflowType=machine_learning`; the toggle is a per-browser setting, GenAI by default).

With --registry-over-http the service registers through that `mlflow server` instead
(CHURN_MLFLOW_TRACKING_URI=http://...), the way several replicas share one registry. With --home DIR the
store is kept there (with --no-train, what it holds is shown and nothing is trained). Nothing here is timed against a target:
it is for a person to read, and the screenshots to look at.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import Server, migrated_mlflow_store, wait_for_job  # noqa: E402
from tests.support.servers import MlflowServer  # noqa: E402

CHROMIUM = os.environ.get("CHURN_CHROMIUM") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
ML_MODE = "workflowType=machine_learning"
CHARTS = ("roc_curve.png", "pr_curve.png", "reliability_diagram.png", "confusion_matrix.png", "feature_importances.png")


def train(home: Path, types: list[str], tracking_uri: str | None) -> list[str]:
    """Trains each type on `sample`; returns the service log's WARNING lines."""
    env = {"CHURN_JSON_LOGS": "false", "CHURN_ACCESS_LOG": "off"}
    if tracking_uri:
        env["CHURN_MLFLOW_TRACKING_URI"] = tracking_uri
    server = Server(home, **env).start()
    try:
        with server.client() as client:
            for model_type in types:
                started = time.monotonic()
                answer = client.post("/train", json={"dataset": "sample", "model_type": model_type, "activate": True})
                answer.raise_for_status()
                job = wait_for_job(client, answer.headers["location"], timeout=900)
                model = job.get("model") or {}
                print(f"trained {model_type}: {job['status']} as {model.get('name')}:{model.get('version')} "
                      f"in {time.monotonic() - started:.1f} s{'' if job['status'] == 'succeeded' else ' - ' + str(job.get('error'))}")
    finally:
        server.stop()
    return [line for line in server.log.read_text(errors="replace").splitlines() if "WARNING" in line or "Warning" in line]


def latest(tracking_uri: str) -> dict[str, str]:
    """Ids of the newest churn version: its run, logged model, experiment."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    versions = client.search_model_versions("tags.`churn.registered_by` = 'churn'")
    version = max(versions, key=lambda v: v.creation_timestamp)
    run = client.get_run(version.run_id)
    model_id = version.source.removeprefix("models:/") if version.source.startswith("models:/") else version.tags.get("churn.model_id", "")
    return {"name": version.name, "version": str(version.version), "run": version.run_id, "run_name": run.info.run_name,
            "experiment": run.info.experiment_id, "model_id": model_id, "source": version.source}


def lines_after(text: str, label: str, count: int = 1, start: str | None = None) -> list[str]:
    """The `count` non-empty lines after the first line that is exactly `label` (after `start`)."""
    lines = [line.strip() for line in text.splitlines()]
    if start is not None and start in lines:
        lines = lines[lines.index(start):]
    if label not in lines:
        return ["(not on the page)"]
    found = [line for line in lines[lines.index(label) + 1:] if line and line != ":"]
    return found[:count]


class Browser:
    def __init__(self, base: str, out: Path) -> None:
        from playwright.sync_api import sync_playwright

        self.base, self.out = base, out
        self._driver = sync_playwright().start()
        self._browser = self._driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        self.page = self._browser.new_page(viewport={"width": 1400, "height": 1700}, locale="en-US")
        self.page.set_default_timeout(30_000)

    def open(self, route: str, wait_for: str) -> str:
        """Loads `#<route>` in the ML mode, waits for `wait_for` to be visible; the page's text."""
        joiner = "&" if "?" in route else "?"
        self.page.goto(f"{self.base}/#{route}{joiner}{ML_MODE}")
        self.page.get_by_text(wait_for, exact=True).first.wait_for()
        time.sleep(1.5)  # the page's other queries (metrics, versions) settle
        assistant = self.page.get_by_role("button", name="Close", exact=True)
        if assistant.count():  # the "MLflow Assistant" side panel, open on a first visit
            assistant.first.click()
            time.sleep(0.5)
        return self.page.inner_text("body")

    def shoot(self, name: str) -> Path:
        path = self.out / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def close(self) -> None:
        self._browser.close()
        self._driver.stop()


def show(browser: Browser, ids: dict[str, str]) -> None:
    page = browser.page
    experiment, run, model_id = ids["experiment"], ids["run"], ids["model_id"]

    text = browser.open(f"/experiments/{experiment}/runs", ids["run_name"])
    print(f"\n[run list] {browser.shoot('1-run-list')}")
    names = sorted(set(re.findall(r"^churn-\S+ v\d+$", text, re.M)))
    print(f"  runs: {', '.join(names)}")
    datasets = sorted(set(re.findall(r"^\S+ [(][0-9a-f]+[)]$", text, re.M)))
    sources = text.count("\nchurn training service")
    print(f"  Dataset column: {', '.join(datasets) or '(empty)'}; Source column 'churn training service': {sources} rows")

    text = browser.open(f"/experiments/{experiment}/models", ids["name"])
    print(f"\n[experiment's logged models] {browser.shoot('1-logged-model-list')}")
    registered = re.findall(r"^(churn-\S+)\s*\n\s*(v\d+)$", text, re.M)
    print(f"  registered versions shown: {', '.join(f'{n} {v}' for n, v in registered) or '(none)'}; "
          f"'Not registered' shown: {page.get_by_text('Not registered', exact=True).count()} times")

    text = browser.open(f"/experiments/{experiment}/runs/{run}", "About this run")
    print(f"\n[run overview] {browser.shoot('2-run-overview')}")
    for label, count in (("Created by", 1), ("Source", 1), ("Datasets", 2), ("Registered models", 2)):
        print(f"  {label}: {' | '.join(lines_after(text, label, count, start='About this run'))}")
    print(f"  Description: {lines_after(text, 'Description')[0]}")
    print(f"  Logged models: {' | '.join(lines_after(text, 'Dataset', 8, start='Logged models (1)'))}")
    print(f"  {next((line for line in text.splitlines() if line.startswith('Metrics (')), 'Metrics: (none)')}; "
          f"{next((line for line in text.splitlines() if line.startswith('Parameters (')), 'Parameters: (none)')}")
    page.get_by_text(re.compile(r"^sample [(]")).first.click()  # the data set's details drawer
    page.get_by_role("dialog").first.wait_for()
    time.sleep(1)
    drawer = page.get_by_role("dialog").first.inner_text()
    print(f"  data set drawer: {' | '.join(line.strip() for line in drawer.splitlines() if line.strip())[:400]}  "
          f"{browser.shoot('2-run-dataset-drawer')}")
    page.keyboard.press("Escape")

    text = browser.open(f"/experiments/{experiment}/runs/{run}/model-metrics", "Model metrics")
    print(f"\n[run model metrics] {browser.shoot('3-run-model-metrics')}")
    section = re.search(r"Model metrics\s*[(]\d+[)]", text)
    print(f"  {' '.join(section.group(0).split()) if section else 'no model metrics section'}")

    browser.open(f"/experiments/{experiment}/runs/{run}/artifacts", "plots")
    page.get_by_text("plots", exact=True).first.click()
    page.get_by_text("roc_curve.png", exact=True).first.wait_for()
    files = sorted(set(re.findall(r"^\S+\.(?:png|csv)$", page.inner_text("body"), re.M)))
    print(f"\n[run artifacts] plots/: {', '.join(files)}")
    for chart in CHARTS:
        page.get_by_text(chart, exact=True).first.click()
        image = page.locator(f"img[alt='plots/{chart}']").first
        image.wait_for()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
        width, height = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
        print(f"  {chart}: shown, {width}x{height} px  {browser.shoot('4-artifact-' + chart.removesuffix('.png'))}")
    page.get_by_text("feature_importances.csv", exact=True).first.click()
    page.get_by_text(re.compile(r"^Previewing the first")).first.wait_for()
    text = page.inner_text("body")
    preview = re.search(r"Previewing the first \d+ rows", text)
    print(f"  feature_importances.csv: a table, {preview.group(0) if preview else '?'}; columns feature | {' | '.join(lines_after(text, 'feature', 2))}; "
          f"first rows {' / '.join(' '.join(row.split()) for row in lines_after(text, 'kind', 3))}  {browser.shoot('4-artifact-feature_importances_csv')}")

    text = browser.open(f"/experiments/{experiment}/models/{model_id}", "About this logged model")
    print(f"\n[logged model] {browser.shoot('5-logged-model')}")
    print(f"  title: {page.locator('h2').first.inner_text().strip()}; 'Not registered' tag: {page.get_by_text('Not registered', exact=True).count() > 0}; "
          f"'Register model' button: {page.get_by_role('button', name='Register model').count() > 0}")
    print(f"  {next((line for line in text.splitlines() if line.startswith('Metrics (')), 'Metrics: (none)')}; "
          f"Description: {lines_after(text, 'Description')[0]}")
    for label in ("Created by", "Source run", "Logged from", "Datasets used", "Model versions"):
        print(f"  {label}: {' | '.join(lines_after(text, label, 2 if label == 'Model versions' else 1, start='About this logged model'))}")
    page.get_by_role("button", name="Register model").first.click()  # what a user who clicks it is offered (cancelled)
    modal = page.get_by_role("dialog").first
    modal.wait_for()
    time.sleep(1)
    print(f"  'Register model' opens: {' | '.join(line.strip() for line in modal.inner_text().splitlines() if line.strip())[:300]}  "
          f"{browser.shoot('5-logged-model-register-dialog')}")
    modal.get_by_role("button", name="Cancel").first.click()

    text = browser.open(f"/models/{ids['name']}/versions/{ids['version']}", f"Version {ids['version']}")
    print(f"\n[registered version {ids['name']} v{ids['version']}] {browser.shoot('6-model-version')}")
    for label in ("Source Run", "Source Model", "Aliases"):
        print(f"  {label}: {lines_after(text, label)[0]}")
    hrefs = [a.get_attribute("href") for a in page.locator("a[href*='/models/m-']").all()]
    print(f"  link to the logged model: {hrefs[0] if hrefs else '(none)'}  (version source: {ids['source']})")
    description = lines_after(text, "Description", 2)
    print(f"  Description: {' '.join(d for d in description if d != 'Edit')}")
    page.locator("a[href*='/models/m-']").first.click()
    page.get_by_text("About this logged model", exact=True).first.wait_for()
    print(f"  'Source Model' link opens: the logged model page of {page.locator('h2').first.inner_text().strip()} ({page.url.split('#')[-1]})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--types", nargs="+", default=["random_forest", "logistic_regression"])
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "screenshots" / "mlflow-ui")
    parser.add_argument("--home", type=Path, help="CHURN_HOME to train into and show (kept); default a temporary one")
    parser.add_argument("--no-train", action="store_true", help="show what --home holds, train nothing")
    parser.add_argument("--registry-over-http", action="store_true", help="the service registers through the mlflow server")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="churn-mlflow-ui-") as tmp:
        home = args.home or Path(tmp) / "home"
        home.mkdir(parents=True, exist_ok=True)
        store = f"sqlite:///{home / 'mlflow.db'}"
        mlflow_server = MlflowServer(store, Path(tmp) / "mlflow-server")
        browser: Browser | None = None
        try:
            if args.registry_over_http:
                if not (home / "mlflow.db").exists():
                    shutil.copy(migrated_mlflow_store(), home / "mlflow.db")
                mlflow_server.start()
            if not args.no_train:
                warnings = train(home, args.types, mlflow_server.url if args.registry_over_http else None)
                pickle = [w for w in warnings if "pickle" in w.lower()]
                print(f"service log: {len(warnings)} warning lines, {len(pickle)} about pickle")
                for line in warnings:
                    print(f"  {line[:200]}")
            if mlflow_server.process is None:
                mlflow_server.start()
            print(f"mlflow server {mlflow_server.url} on {store}")
            ids = latest(store)
            browser = Browser(mlflow_server.url, args.out)
            show(browser, ids)
        finally:
            if browser is not None:
                browser.close()
            mlflow_server.stop()
    print(f"\nscreenshots in {args.out}; {time.monotonic() - started:.0f} s in all")


if __name__ == "__main__":
    main()
