"""/train options, safe promotion, the version page and /models/compare through the HTTP API."""

from __future__ import annotations

from tests.api.conftest import train, upload
from tests.support.datasets import SUBSCRIPTION_FEATURES, subscriptions_csv


def tiny_csv() -> bytes:
    rows = ["account,age,plan,monthly_fee,support_calls,autopay,left"]
    rows += [f"T{i},{30 + i},basic,9.5,{i % 4},{'yes' if i % 2 else 'no'},{i % 2}" for i in range(10)]
    return ("\n".join(rows) + "\n").encode()


def test_a_ten_row_upload_is_refused_at_train_saying_how_many_rows_it_needs(client):
    assert upload(client, "tiny", tiny_csv()).status_code == 201
    response = client.post("/train", json={"dataset": "tiny", "model_type": "logistic_regression"})
    assert response.status_code == 400
    body = response.json()
    assert "at least 100 rows" in body["message"] and "at least 10 of each" in body["message"]


def test_a_weak_model_cannot_replace_a_good_active_one_and_a_better_one_does(client):
    assert upload(client).status_code == 201
    good = train(client, "logistic_regression")
    assert good["activate"] == "if_better" and good["activated"] is True
    weak = train(client, "decision_tree", hyperparameters={"max_depth": 1})
    assert weak["activated"] is False and "churn-logistic_regression:1" in weak["activation_reason"]
    assert client.get("/models/active").json()["name"] == "churn-logistic_regression"
    forced = train(client, "decision_tree", hyperparameters={"max_depth": 1}, activate=True)
    assert forced["activated"] is True
    better = train(client, "logistic_regression", name="churn-lr-2")
    assert better["activated"] is True and "beats" in better["activation_reason"]
    assert client.get("/models/active").json()["name"] == "churn-lr-2"


def test_the_version_page_shows_cv_spread_ece_threshold_and_curves(client):
    assert upload(client).status_code == 201
    job = train(client, "random_forest", hyperparameters={"n_estimators": 10}, threshold="max_f1", calibration="sigmoid", cv_folds=3)
    page = client.get(f"/models/{job['model']['name']}/{job['model']['version']}")
    assert page.status_code == 200
    body = page.json()
    assert body["cross_validation"]["folds"] == 3
    assert set(body["cross_validation"]["mean"]) == set(body["cross_validation"]["std"]) == {"roc_auc", "pr_auc", "log_loss", "brier"}
    assert {"ece", "pr_auc", "roc_auc"} <= set(body["metrics"])
    assert 0 < body["threshold"] < 1 and body["calibration"] == "sigmoid"
    evaluation = body["evaluation"]
    assert evaluation["threshold_rule"] == "max_f1" and "cross-validation" in evaluation["threshold_source"]
    assert len(evaluation["reliability"]) == 10 and sum(b["count"] for b in evaluation["reliability"]) == evaluation["holdout_rows"]
    assert 2 <= len(evaluation["roc"]) <= 200 and 2 <= len(evaluation["pr"]) <= 200
    assert sum(evaluation["confusion"].values()) == evaluation["holdout_rows"]
    assert client.get("/models/churn-random_forest/99").status_code == 404


def test_churn_in_a_prediction_uses_the_threshold_of_the_version(client):
    assert upload(client).status_code == 201
    train(client, "logistic_regression", threshold=0.05, activate=True)
    body = client.post("/predict", json={"features": SUBSCRIPTION_FEATURES}).json()
    assert body["churn"] == (body["churn_probability"] >= 0.05)
    assert client.get("/models/active").json()["threshold"] == 0.05


def test_bad_training_options_are_400(client):
    assert upload(client).status_code == 201
    for body in ({"threshold": 1.5}, {"threshold": "best"}, {"calibration": "platt"}, {"cv_folds": 1}, {"activate": "maybe"},
                 {"model_type": "svc", "calibration": "none"}):
        response = client.post("/train", json={"dataset": "subs", "model_type": "logistic_regression", **body})
        assert response.status_code == 400, (body, response.text)


def test_compare_scores_versions_on_one_hold_out_and_reports_missing_features(client):
    assert upload(client).status_code == 201
    lr = train(client, "logistic_regression")
    tree = train(client, "decision_tree", hyperparameters={"max_depth": 2}, activate=False)
    narrow = "\n".join(",".join(line.split(",")[:4] + line.split(",")[-1:]) for line in subscriptions_csv().decode().splitlines())
    assert upload(client, "narrow", narrow.encode()).status_code == 201
    response = client.post("/models/compare", json={"versions": ["churn-logistic_regression:1", "churn-decision_tree"], "dataset": "subs"})
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [i["model"]["name"] for i in items] == ["churn-logistic_regression", "churn-decision_tree"]
    assert items[0]["metrics"]["roc_auc"] == lr["metrics"]["roc_auc"]  # the same hold-out rows it was measured on
    assert items[1]["metrics"]["roc_auc"] == tree["metrics"]["roc_auc"]
    lacking = client.post("/models/compare", json={"versions": ["churn-logistic_regression:1"], "dataset": "narrow"}).json()["items"][0]
    assert lacking["metrics"] is None and set(lacking["missing_features"]) == {"support_calls", "autopay"}
    assert client.post("/models/compare", json={"versions": ["nope:1"], "dataset": "subs"}).status_code == 404
