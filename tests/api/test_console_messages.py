"""The domain's messages in the console's Portuguese pages: the real errors are raised (by the
domain, or through the API) and each must be read by a pattern of the catalogue, so a reworded
message fails here instead of silently showing English."""

from __future__ import annotations

import pytest
from markupsafe import escape

from churn.decision import ThresholdRule
from churn.errors import ChurnError
from churn.features import FeatureKind, FeatureSpec
from churn.model_types import CATALOG, model_type
from churn.outcomes import read_outcomes
from churn.promotion import Activation, Incumbent, PromotionRule
from churn.training_options import Calibration, TrainingOptions, check_holdout
from churn.datasets import check_dataset_name
from churn.versions import ModelRef
from entrypoints.console.domain_messages import PT_BR_WORDS, domain_translator, known
from tests.api.conftest import upload

PT = {"Accept-Language": "pt-BR"}
said = domain_translator("pt-BR")


def message_of(call) -> str:
    with pytest.raises(ChurnError) as raised:
        call()
    return raised.value.message


REFUSALS = {
    "unknown type": lambda: model_type("neural_net"),
    "out of range": lambda: model_type("logistic_regression").resolve({"C": -1}),
    "not a number": lambda: model_type("logistic_regression").resolve({"C": "lots"}),
    "not whole": lambda: model_type("random_forest").resolve({"n_estimators": 2.5}),
    "unknown hyperparameter": lambda: model_type("logistic_regression").resolve({"depth": 3}),
    "bad choice": lambda: model_type("logistic_regression").resolve({"class_weight": "heavy"}),
    "folds": lambda: TrainingOptions(cv_folds=1),
    "threshold out of (0, 1)": lambda: ThresholdRule.parse(1.5),
    "unknown threshold": lambda: ThresholdRule.parse("best"),
    "zero costs": lambda: ThresholdRule.parse({"cost_false_negative": 0, "cost_false_positive": 0}),
    "activation": lambda: Activation.parse("maybe"),
    "calibration": lambda: Calibration.parse("platt"),
    "svc without calibration": lambda: TrainingOptions(calibration=Calibration.NONE).calibration_for("svc"),
    "hold-out too small": lambda: check_holdout(60, 12),
    "data set name": lambda: check_dataset_name("My Data"),
    "model name": lambda: ModelRef("no spaces please", 1),
}


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_every_training_refusal_reads_in_portuguese(name):
    text = message_of(REFUSALS[name])
    assert known("pt-BR", text), text
    assert said(text) != text


def test_every_model_type_and_hyperparameter_is_described_in_portuguese():
    for kind in CATALOG:
        for text in (kind.description, *(h.description for h in kind.hyperparameters)):
            assert text in PT_BR_WORDS, text
        for h in kind.hyperparameters:
            assert known("pt-BR", h.allowed()), h.allowed()


def test_every_promotion_reason_reads_in_portuguese_and_without_api_advice_in_english():
    rule, active = PromotionRule(), ModelRef("churn-lr", 1)
    reasons = [
        rule.decide(Activation.ALWAYS, {"roc_auc": 0.8}, None).reason,
        rule.decide(Activation.NEVER, {"roc_auc": 0.8}, None).reason,
        rule.decide(Activation.IF_BETTER, {"roc_auc": 0.5}, None).reason,
        rule.decide(Activation.IF_BETTER, {"roc_auc": 0.8}, None).reason,
        rule.decide(Activation.IF_BETTER, {"roc_auc": 0.8}, Incumbent(active, None)).reason,
        rule.decide(Activation.IF_BETTER, {"roc_auc": 0.8}, Incumbent(active, {"roc_auc": 0.7})).reason,
        rule.decide(Activation.IF_BETTER, {"roc_auc": 0.7}, Incumbent(active, {"roc_auc": 0.8})).reason,
    ]
    english = domain_translator("en")
    for reason in reasons:
        assert known("pt-BR", reason), reason
        assert "POST /use-model" not in english(reason) and "POST /use-model" not in said(reason)


def test_every_feature_problem_reads_in_portuguese():
    specs = [FeatureSpec("tenure", FeatureKind.NUMBER, 3.0), FeatureSpec("plan", FeatureKind.CATEGORY, "basic", ("basic",)),
             FeatureSpec("autopay", FeatureKind.BOOLEAN, False, ("no", "yes")), FeatureSpec("since", FeatureKind.DATE, "2024-01-31")]
    problems = [spec.problem_with(value) for spec in specs for value in ("ten", 7, [1], {"a": 1}, float("inf"))]
    for problem in {p for p in problems if p}:
        assert known("pt-BR", problem), problem


def test_every_refused_outcome_row_reads_in_portuguese():
    _, rejected = read_outcomes(b"customer_id,churned,observed_at\nc1,maybe,2026-01-01\nc2,yes,last week\nc3,yes\n")
    assert len(rejected) == 3
    for row in rejected:
        assert known("pt-BR", row.reason), row.reason


BAD_FILES = {
    "duplicate columns": b"id,age,age,left\n1,2,3,0\n",
    "one column": b"id age left\n1 2 0\n",
    "empty": b"",
    "record too long": b"id,age,left\n1,2,0\n2,3,1,9,9\n",
    "record too short": b"id,age,left\n1,2,0\n2,3\n",
    "quote never closed": b'id,age,left\n1,"2,0\n',
    "header only": b"id,age,left\n",
    "a blank column": b"id,age,note,left\n" + b"".join(b"%d,%d,,%d\n" % (i, i % 50, i % 2) for i in range(40)),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_an_upload_refusal_reads_in_portuguese_in_the_console(client, name):
    refused = upload(client, name="bad", content=BAD_FILES[name], target="left", id_column="id")
    assert refused.status_code == 400
    text = refused.json()["message"]
    assert known("pt-BR", text), text
    page = client.post("/ui/part/datasets/preview", files={"file": ("bad.csv", BAD_FILES[name], "text/csv")}, headers=PT)
    assert str(escape(said(text))) in page.text
    assert text not in page.text


def test_upload_and_target_refusals_through_the_api_read_in_portuguese(client):
    three = "id,age,left\n" + "".join(f"{i},{i % 50},{i % 3}\n" for i in range(60))
    unknown = "id,age,left\n" + "".join(f"{i},{i % 50},{'a' if i % 2 else 'b'}\n" for i in range(60))
    assert upload(client, name="ok", target="left", id_column="account").status_code == 201
    cases = [
        upload(client, name="ok", target="left", id_column="account"),  # exists
        upload(client, name="three", content=three.encode(), target="left", id_column="id"),
        upload(client, name="words", content=unknown.encode(), target="left", id_column="id"),
        upload(client, name="notarget", content=three.encode(), target="churned", id_column="id"),
    ]
    for response in cases:
        assert response.status_code in (400, 409)
        assert known("pt-BR", response.json()["message"]), response.json()["message"]


def test_a_training_refusal_and_a_bad_value_read_in_portuguese_in_the_console(client):
    assert upload(client).status_code == 201
    refused = client.post("/ui/part/train", data={"dataset": "subs", "model_type": "logistic_regression", "hp.C": "-1"}, headers=PT)
    assert refused.status_code == 400 and "o hiperparâmetro &#39;C&#39; está fora do intervalo; permitido: um número de" in refused.text
    client.post("/train", json={"dataset": "subs", "model_type": "logistic_regression", "cv_folds": 2})
    scored = client.post("/ui/part/score", data={"model": "churn-logistic_regression:1", "f0": "40", "f1": "basic", "f2": "many"}, headers=PT)
    assert scored.status_code == 400 and "esperava um número, veio um texto" in scored.text


def test_drift_bins_read_in_portuguese():
    from churn.drift import FeatureReference

    numbers = FeatureReference.of("tenure", "number", [float(v) for v in range(100)])
    words = FeatureReference.of("plan", "category", ["basic", "premium"] * 10)
    for label in (*numbers.labels(), *words.labels()):
        if label not in ("basic", "premium") and not label.startswith(("<", ">=")):  # symbols need no words
            assert known("pt-BR", label), label
