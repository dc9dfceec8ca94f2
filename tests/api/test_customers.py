from tests.api.conftest import train, upload
from tests.support.datasets import subscriptions_csv

STORES = ("memory", "sqlite")  # the API on both embedded stores


def import_file(client, content, id_column="account"):
    return client.post("/clients/import", files={"file": ("c.csv", content, "text/csv")}, data={"id_column": id_column})


def test_import_is_idempotent_and_reports_bad_lines(client):
    content = subscriptions_csv(20) + b"broken-line\n"
    first = import_file(client, content).json()
    again = import_file(client, content).json()
    assert (first["inserted"], first["updated"], first["unchanged"]) == (20, 0, 0)
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 20)
    assert first["rejected"] == [{"line": 22, "reason": "1 fields, the header has 7 (record 21)"}]


def test_customers_are_listed_and_fetched_by_id(client):
    import_file(client, subscriptions_csv(20))
    page = client.get("/clients", params={"limit": 5, "offset": 5}).json()
    assert page["total"] == 20 and [c["customer_id"] for c in page["items"]] == [f"A{i:05d}" for i in range(5, 10)]
    customer = client.get("/clients/A00003").json()
    assert customer["attributes"]["plan"] in {"basic", "standard", "premium"}
    assert client.get("/clients/nobody").status_code == 404


def test_a_file_without_the_id_column_is_400(client):
    response = import_file(client, b"a,b\n1,2\n", id_column="customerID")
    assert response.status_code == 400 and "customerID" in response.json()["message"]


def test_stored_customer_is_scored_and_the_score_joins_its_history(client):
    upload(client)
    train(client)
    import_file(client, subscriptions_csv(20))
    response = client.post("/clients/A00007/predict")
    assert response.status_code == 200 and response.json()["customer_id"] == "A00007"
    assert client.get("/clients/A00007/predictions").json()["items"][0] == response.json()
    assert client.post("/clients/nobody/predict").status_code == 404


def test_stored_customer_lacking_a_feature_gets_400_with_the_example(client):
    upload(client)
    train(client)
    import_file(client, b"account,age,plan\nZ1,40,basic\n")
    response = client.post("/clients/Z1/predict")
    assert response.status_code == 400 and {p["feature"] for p in response.json()["problems"]} >= {"monthly_fee"}
    assert "expected_example" in response.json()


def test_history_of_an_unknown_customer_is_404(client):
    assert client.get("/clients/nobody/predictions").status_code == 404
