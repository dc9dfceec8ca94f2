"""The committed sample CSV is exactly what data/make_sample.py produces, and is well formed."""
from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "data" / "make_sample.py"
SAMPLE = ROOT / "data" / "sample_customers.csv"

TELCO_COLUMNS = [
    "customerID", "gender", "SeniorCitizen", "Partner", "Dependents", "tenure",
    "PhoneService", "MultipleLines", "InternetService", "OnlineSecurity",
    "OnlineBackup", "DeviceProtection", "TechSupport", "StreamingTV",
    "StreamingMovies", "Contract", "PaperlessBilling", "PaymentMethod",
    "MonthlyCharges", "TotalCharges", "Churn",
]
INTERNET_ADDONS = ["OnlineSecurity", "OnlineBackup", "DeviceProtection",
                   "TechSupport", "StreamingTV", "StreamingMovies"]


def _load_script():
    spec = importlib.util.spec_from_file_location("make_sample", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with SAMPLE.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == TELCO_COLUMNS
        return list(reader)


def test_committed_csv_matches_generator(tmp_path):
    ms = _load_script()
    out = ms.make_sample(tmp_path / "sample.csv")  # defaults: 2000 rows, seed 7
    assert out.read_bytes() == SAMPLE.read_bytes(), (
        "data/sample_customers.csv is stale: run `python data/make_sample.py`"
    )


def test_generator_is_deterministic_and_seed_sensitive(tmp_path):
    ms = _load_script()
    a = ms.make_sample(tmp_path / "a.csv", rows=50, seed=3).read_bytes()
    b = ms.make_sample(tmp_path / "b.csv", rows=50, seed=3).read_bytes()
    c = ms.make_sample(tmp_path / "c.csv", rows=50, seed=4).read_bytes()
    assert a == b
    assert a != c


def test_shape_ids_and_churn_rate(rows):
    assert len(rows) == 2000
    ids = [r["customerID"] for r in rows]
    assert len(set(ids)) == len(ids)
    for cid in ids:
        digits, letters = cid.split("-")
        assert len(digits) == 4 and digits.isdigit()
        assert len(letters) == 5 and letters.isalpha() and letters.isupper()
    rate = sum(r["Churn"] == "Yes" for r in rows) / len(rows)
    assert 0.20 <= rate <= 0.33
    assert SAMPLE.stat().st_size < 400_000


def test_value_sets(rows):
    allowed = {
        "gender": {"Male", "Female"},
        "SeniorCitizen": {"0", "1"},
        "Partner": {"Yes", "No"},
        "Dependents": {"Yes", "No"},
        "PhoneService": {"Yes", "No"},
        "MultipleLines": {"Yes", "No", "No phone service"},
        "InternetService": {"DSL", "Fiber optic", "No"},
        "Contract": {"Month-to-month", "One year", "Two year"},
        "PaperlessBilling": {"Yes", "No"},
        "PaymentMethod": {"Electronic check", "Mailed check",
                          "Bank transfer (automatic)", "Credit card (automatic)"},
        "Churn": {"Yes", "No"},
        **{c: {"Yes", "No", "No internet service"} for c in INTERNET_ADDONS},
    }
    for r in rows:
        for col, values in allowed.items():
            assert r[col] in values, (col, r[col])
        assert 0 <= int(r["tenure"]) <= 72
        assert (r["MultipleLines"] == "No phone service") == (r["PhoneService"] == "No")
        no_net = r["InternetService"] == "No"
        for c in INTERNET_ADDONS:
            assert (r[c] == "No internet service") == no_net
        assert r["PhoneService"] == "Yes" or not no_net  # at least one service
        monthly = float(r["MonthlyCharges"])
        assert r["MonthlyCharges"] == f"{monthly:.2f}"
        assert 18.0 <= monthly <= 125.0


def test_total_charges_blank_only_for_new_customers(rows):
    assert any(r["tenure"] == "0" for r in rows)
    for r in rows:
        tenure = int(r["tenure"])
        if tenure == 0:
            assert r["TotalCharges"] == " "
            continue
        assert r["TotalCharges"] != " "
        total, monthly = float(r["TotalCharges"]), float(r["MonthlyCharges"])
        assert r["TotalCharges"] == f"{total:.2f}"
        assert 0.8 * tenure * monthly <= total <= 1.25 * tenure * monthly
