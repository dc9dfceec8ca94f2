"""The retention lead's loop on the command line (issue 13's "done when"): the latest-risk CSV, the
outcomes import, realised performance and drift, each the same as the API on the same CHURN_HOME.

The store is filled in process (a small data set, trained and scored through the API on SQLite), so
only the commands under test start an interpreter; each one must not import a heavy library."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from entrypoints.api.app import create_app
from tests.api.conftest import make_container, train, upload
from tests.e2e.conftest import ROOT
from tests.support.datasets import SUBSCRIPTION_FEATURES, subscriptions_csv

pytestmark = pytest.mark.e2e

HEAVY = ("mlflow", "sklearn", "pandas", "uvicorn", "pymongo", "numpy")  # as tests/e2e/test_cli.py, and numpy


def cli(home, *args):
    """main.py in a fresh interpreter: exit code, stdout, stderr lines, and the heavy libraries it imported."""
    probe = (
        "import sys, main; code = main.main(sys.argv[1:]); sys.stdout.flush(); "
        f"heavy = sorted(m for m in {HEAVY!r} if m in sys.modules); "
        "print(' '.join(heavy) or '-', file=sys.stderr); sys.exit(code)"
    )
    env = {**os.environ, "CHURN_HOME": str(home)}
    result = subprocess.run([sys.executable, "-c", probe, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    *lines, heavy = result.stderr.strip().splitlines() or ["-"]
    return result.returncode, result.stdout, lines, heavy


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """A SQLite CHURN_HOME with a trained version, 40 customers scored by a run and one formula-like id
    (shared by the module's tests: the export reads no outcome)."""
    home = tmp_path_factory.mktemp("retention") / "home"
    container = make_container(home, store="sqlite")
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        assert upload(client).status_code == 201
        train(client)
        client.post("/clients/import", files={"file": ("c.csv", subscriptions_csv(40), "text/csv")}, data={"id_column": "account"})
        assert client.post("/scoring-runs", json={}).status_code == 202
        formula = client.post("/predict", json={"customer_id": '=HYPERLINK("http://x")', "features": SUBSCRIPTION_FEATURES})
        assert formula.status_code == 200
        yield home, client


def test_export_writes_the_apis_csv_to_a_file_or_stdout(scored, tmp_path):
    home, client = scored
    target = tmp_path / "over-50.csv"
    code, _, lines, heavy = cli(home, "export", "--min-probability", "0.5", "-o", str(target))
    assert (code, heavy) == (0, "-"), lines
    api = client.get("/clients.csv", params={"min_probability": 0.5}).content
    assert target.read_bytes() == api
    rows = list(csv.reader(io.StringIO(api.decode())))
    assert rows[0] == ["customer_id", "churn_probability", "band", "model", "scored_at", "reasons_up", "reasons_down"]
    assert lines[-1] == f"{len(rows) - 1} customers written to {target}"

    code, out, lines, heavy = cli(home, "export", "--model", "churn-logistic_regression:1")
    assert (code, heavy) == (0, "-"), lines
    everyone = list(csv.reader(io.StringIO(out)))
    assert len(everyone) == 1 + 41 and "'=HYPERLINK(\"http://x\")" in [row[0] for row in everyone]
    assert [float(row[1]) for row in everyone[1:]] == sorted((float(row[1]) for row in everyone[1:]), reverse=True)

    code, _, lines, heavy = cli(home, "export", "--band", "75-100", "--min-probability", "0.2", "-o", str(tmp_path / "no.csv"))
    assert (code, heavy, lines) == (1, "-", ["error: give either band or --min-probability/--max-probability, not both"])
    assert not (tmp_path / "no.csv").exists()


def test_outcomes_import_then_performance_and_drift_print_the_apis_figures(scored, tmp_path):
    home, client = scored
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    outcomes = tmp_path / "left.csv"
    lines = ["customer_id,churned,observed_at"] + [f"A{i:05d},{'yes' if i % 3 == 0 else 'no'},{tomorrow}" for i in range(40)]
    outcomes.write_text("\n".join([*lines, f"A00001,bogus,{tomorrow}"]) + "\n")
    code, out, err, heavy = cli(home, "outcomes", "import", str(outcomes))
    assert (code, heavy) == (0, "-"), err
    report = json.loads(out)
    assert (report["inserted"], report["unchanged"], [r["line"] for r in report["rejected"]]) == (40, 0, [42])
    code, out, err, heavy = cli(home, "outcomes", "import", str(outcomes))
    assert (code, json.loads(out)["inserted"], json.loads(out)["unchanged"]) == (0, 0, 40)

    code, out, err, heavy = cli(home, "performance", "churn-logistic_regression:1", "--horizon-days", "30")
    assert (code, heavy) == (0, "-"), err
    api = client.get("/models/churn-logistic_regression/1/performance", params={"horizon_days": 30}).json()
    assert api["matched"] == 40
    text = out.splitlines()
    assert text[0].startswith("churn-logistic_regression:1 on the outcomes observed within 30 days")
    assert f"matched outcomes: {api['matched']}" in text[1]
    assert text[2] == (
        f"ROC AUC {api['roc_auc']:.4f}  precision {api['precision']:.4f}  recall {api['recall']:.4f}  churn rate {api['churn_rate']:.1%}"
    )
    for band in api["bands"]:
        assert any(line.split()[:3] == [band["band"], str(band["predictions"]), str(band["churned"])] for line in text), band

    code, out, err, heavy = cli(home, "drift", "churn-logistic_regression:1", "--days", "7")
    assert (code, heavy) == (0, "-"), err
    api = client.get("/models/churn-logistic_regression/1/drift", params={"days": 7}).json()
    rows: dict[str, list[str]] = {}
    for line in out.splitlines():  # the first line naming each feature is its row of the table
        if line.split():
            rows.setdefault(line.split()[0], line.split()[1:])
    for feature in (api["probability"], *api["features"]):
        assert rows[feature["feature"]][1:3] == [f"{feature['psi']:.4f}", feature["reading"]], feature
    assert f"predictions measured: {api['predictions']}; reading: {api['reading']}" in out

    for args, message in [
        (["performance", "churn-logistic_regression:9"], "error: model churn-logistic_regression:9 not found; main.py models lists the trained versions"),
        (["drift", "churn-x"], "error: invalid model version 'churn-x': use 'name:version', e.g. churn-logistic_regression:1"),
        (["performance", "churn-logistic_regression:1", "--horizon-days", "0"], "error: --horizon-days must be a whole number from 1 to 3650"),
    ]:
        code, _, err, heavy = cli(home, *args)
        assert (code, heavy, err) == (1, "-", [message])
