"""The command line: the same configuration and state as the server."""

import json
import os
import subprocess
import sys

import pytest

from tests.e2e.conftest import ROOT

pytestmark = pytest.mark.e2e


def cli(home, *args, check=True):
    env = {**os.environ, "CHURN_HOME": str(home)}
    result = subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, result.stderr[-2000:]
    return result


def test_train_list_and_load_clients_from_the_command_line(tmp_path):
    home = tmp_path / "home"
    trained = json.loads(cli(home, "train", "--dataset", "sample", "--model-type", "decision_tree", "--param", "max_depth=4").stdout)
    assert trained["model"] == "churn-decision_tree:1" and 0.5 < trained["metrics"]["roc_auc"] <= 1.0
    models = json.loads(cli(home, "models").stdout)
    assert [(m["model"], m["active"]) for m in models] == [("churn-decision_tree:1", True)]
    customers = tmp_path / "more.csv"
    customers.write_text("customerID,tenure\nNEW-1,3\nNEW-2,oops,extra\n")
    result = cli(home, "load-clients", str(customers))
    report = json.loads(result.stdout)
    assert (report["inserted"], [r["line"] for r in report["rejected"]]) == (1, [3])
    assert "customers" in result.stderr


def test_bad_hyperparameter_and_open_bind_are_refused_with_a_reason(tmp_path):
    home = tmp_path / "home"
    bad = cli(home, "train", "--model-type", "random_forest", "--param", "n_estimators=100000", check=False)
    assert bad.returncode == 1 and "n_estimators" in bad.stderr
    exposed = cli(home, "serve", "--host", "0.0.0.0", check=False)
    assert exposed.returncode == 2 and "CHURN_API_KEYS" in exposed.stderr
    split_memory = subprocess.run(
        [sys.executable, "main.py", "serve", "--workers", "2"],
        cwd=ROOT, env={**os.environ, "CHURN_HOME": str(home), "CHURN_STORE": "memory"}, capture_output=True, text=True, timeout=120,
    )
    assert split_memory.returncode == 2 and "shared store" in split_memory.stderr


def imported_after(home, *args):
    """Run a command in a fresh interpreter; its exit code, stderr, and which heavy libraries it imported."""
    probe = (
        "import sys, main; code = main.main(sys.argv[1:]); "
        "heavy = sorted(m for m in ('mlflow', 'sklearn', 'pandas', 'uvicorn', 'pymongo') if m in sys.modules); "
        "print(' '.join(heavy) or '-', file=sys.stderr); sys.exit(code)"
    )
    env = {**os.environ, "CHURN_HOME": str(home)}
    result = subprocess.run([sys.executable, "-c", probe, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    *lines, heavy = result.stderr.strip().splitlines() or ["-"]
    return result.returncode, lines, heavy


@pytest.mark.parametrize(
    "args, code",
    [
        (["datasets", "list"], 0),
        (["train", "--model-type", "nope"], 1),
        (["use-model", "not a name", "1"], 1),
        (["train", "--model-type", "knn", "--param", "n_neighbors=0"], 1),
    ],
)
def test_listing_and_argument_errors_import_no_heavy_library_and_errors_are_one_line(tmp_path, args, code):
    returncode, lines, heavy = imported_after(tmp_path / "home", *args)
    assert (returncode, heavy) == (code, "-"), lines
    if code:
        assert len(lines) == 1 and lines[0].startswith("error: "), lines


def test_serve_on_a_busy_port_fails_at_once_with_a_hint_about_port(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        returncode, lines, heavy = imported_after(tmp_path / "home", "serve", "--port", str(port))
    assert returncode == 1 and heavy == "-"
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and "already in use" in errors[0] and "--port" in errors[0], lines


def test_datasets_add_prints_the_profile_and_errors_are_one_line(tmp_path):
    from tests.support.awkward import brazilian_export, with_blank_constant_and_leak

    home = tmp_path / "home"
    export = tmp_path / "clientes.csv"
    export.write_bytes(brazilian_export(rows=60))
    added = cli(home, "datasets", "add", str(export), "--name", "clientes", "--target", "Cancelou")
    table = added.stdout.splitlines()
    assert "churn = 'Sim'" in table[0] and "cp1252" in table[1]
    assert any(line.startswith("Mensalidade") and "numeric" in line for line in table)
    blank = tmp_path / "leaky.csv"
    blank.write_bytes(with_blank_constant_and_leak(rows=60))
    refused = cli(home, "datasets", "add", str(blank), "--name", "leaky", "--target", "churned", check=False)
    assert refused.returncode == 1 and refused.stderr.strip().splitlines()[-1].startswith("error: column 'notes' is blank in every row")
    assert "--column-type notes=ignored" in refused.stderr and "column_types" not in refused.stderr
    kept = cli(home, "datasets", "add", str(blank), "--name", "leaky", "--target", "churned", "--column-type", "notes=ignored")
    assert any(line.startswith("notes") and "ignored" in line and "left out" in line for line in kept.stdout.splitlines())
    missing = cli(home, "datasets", "add", str(tmp_path / "nope.csv"), "--name", "x", "--target", "y", check=False)
    assert missing.returncode == 1 and missing.stderr.strip().splitlines() == [f"error: cannot read {tmp_path / 'nope.csv'}: no such file"]
    removed = cli(home, "datasets", "remove", "clientes")
    assert "removed" in removed.stdout
    again = cli(home, "datasets", "remove", "clientes", check=False)
    error_lines = [line for line in again.stderr.splitlines() if line.startswith("error:")]
    assert again.returncode == 1 and error_lines == ["error: data set 'clientes' not found; add it with main.py datasets add"]
