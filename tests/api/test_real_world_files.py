"""Files as companies export them, end to end through the API: what was understood (the profile),
what is refused and how, and what the trained schema and the scores make of it."""

from __future__ import annotations

import json
import unicodedata

import pytest

from tests.api.conftest import train
from tests.support import awkward


def send(client, content, name="export", target="Cancelou", filename="export.csv", **fields):
    data = {"name": name, "target": target, **{k: v for k, v in fields.items() if v is not None}}
    return client.post("/datasets", files={"file": (filename, content, "text/csv")}, data=data)


def columns_of(body):
    return {c["name"]: c for c in body["profile"]["columns"]}


def test_a_brazilian_excel_export_uploads_without_editing(client):
    response = send(client, awkward.brazilian_export())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["reading"] == {"encoding": "cp1252", "delimiter": ";", "decimal": ","}
    assert (body["positive_label"], body["rows"]) == ("Sim", 300)
    columns = columns_of(body)
    assert list(columns) == ["Código", "Gênero", "Idade", "Região", "Contrato", "Mensalidade", "Total Gasto", "Débito Automático", "Cancelou"]
    fee = columns["Mensalidade"]
    assert (fee["kind"], fee["role"], fee["number_format"]) == ("numeric", "feature", "1.234,56")
    assert 20 <= fee["minimum"] < fee["maximum"] <= 120
    assert columns["Total Gasto"]["kind"] == "numeric" and columns["Total Gasto"]["maximum"] > 1000
    assert (columns["Código"]["kind"], columns["Código"]["role"]) == ("identifier", "left out")
    assert "identifier" in columns["Código"]["warnings"][0]
    assert columns["Débito Automático"]["kind"] == "boolean" and columns["Débito Automático"]["boolean_values"] == ["Não", "Sim"]
    assert columns["Região"]["kind"] == "categorical" and "São Paulo" in [t["value"] for t in columns["Região"]["top"]]
    assert (columns["Cancelou"]["role"], columns["Cancelou"]["kind"]) == ("target", "boolean")
    assert client.get("/datasets/export").json() == body


def test_the_brazilian_charges_are_numeric_in_the_trained_schema_and_change_the_score(client):
    assert send(client, awkward.brazilian_export()).status_code == 201
    job = train(client, dataset="export")
    model = job["model"]
    listed = client.get("/models").json()["items"][0]
    assert all(set(f) == {"name", "kind"} for f in listed["features"])
    full = client.get(f"/models/{model['name']}/{model['version']}").json()
    schema = {f["name"]: f for f in full["features"]}
    assert schema["Mensalidade"]["kind"] == "number" and schema["Total Gasto"]["kind"] == "number"
    assert schema["Débito Automático"]["kind"] == "boolean" and "Código" not in schema
    features = {f["name"]: f["example"] for f in full["features"]}
    scores = []
    for fee in (20.0, 119.0):
        answer = client.post("/predict", json={"customer_id": "C1", "features": {**features, "Mensalidade": fee}})
        assert answer.status_code == 200, answer.text
        scores.append(answer.json()["churn_probability"])
    assert scores[1] > scores[0] + 0.05
    yes = client.post("/predict", json={"features": {**features, "Débito Automático": "Sim"}})
    also_yes = client.post("/predict", json={"features": {**features, "Débito Automático": True}})
    assert yes.status_code == also_yes.status_code == 200
    assert yes.json()["churn_probability"] == also_yes.json()["churn_probability"]


def test_the_same_export_with_commas_and_quoted_decimal_commas_reads_numbers(client):
    content = awkward.brazilian_export(delimiter=",", encoding="utf-8")
    assert b'"29,' in content or b',"' in content
    body = send(client, content).json()
    assert body["reading"]["delimiter"] == ","
    columns = columns_of(body)
    assert columns["Mensalidade"]["kind"] == "numeric" and columns["Mensalidade"]["number_format"] == "1.234,56"
    assert columns["Total Gasto"]["kind"] == "numeric"


def test_a_tab_separated_file_and_an_explicit_delimiter(client):
    body = send(client, awkward.tab_separated(), name="tsv", target="churn", filename="x.tsv").json()
    assert body["reading"]["delimiter"] == "\t"
    assert columns_of(body)["monthly_fee"]["kind"] == "numeric"
    forced = send(client, awkward.tab_separated(), name="tsv2", target="churn", delimiter="tab")
    assert forced.status_code == 201
    wrong = send(client, awkward.tab_separated(), name="tsv3", target="churn", delimiter=";")
    assert wrong.status_code == 400 and "delimiter" in wrong.json()["message"]


def test_dates_booleans_and_a_numeric_id_are_understood_and_scored(client):
    response = send(client, awkward.dates_booleans_numeric_id(), name="bank", target="Exited")
    assert response.status_code == 201, response.text
    columns = columns_of(response.json())
    assert {n: columns[n]["kind"] for n in columns} == {
        "RowNumber": "identifier", "CustomerId": "identifier", "signup": "date", "last_login": "date",
        "birthday": "date", "paperless": "boolean", "senior": "boolean", "spend": "numeric", "Exited": "boolean",
    }
    assert columns["birthday"]["date_format"] == "%d/%m/%Y" and columns["last_login"]["date_format"] == "%Y-%m-%d %H:%M:%S"
    assert columns["spend"]["number_format"] == "1,234.56" and columns["spend"]["maximum"] > 1000
    assert columns["signup"]["reference"] == columns["signup"]["maximum"]
    job = train(client, dataset="bank")
    schema = {f["name"]: f for f in client.get(f"/models/{job['model']['name']}/1").json()["features"]}
    assert schema["signup"]["kind"] == "date" and schema["signup"]["reference"] == columns["signup"]["reference"]
    features = {name: spec["example"] for name, spec in schema.items()}
    early = client.post("/predict", json={"features": {**features, "signup": "2020-02-01"}})
    late = client.post("/predict", json={"features": {**features, "signup": "2024-01-15", "paperless": "true", "senior": 1}})
    assert early.status_code == late.status_code == 200, late.text
    assert early.json()["churn_probability"] != late.json()["churn_probability"]
    bad = client.post("/predict", json={"features": {**features, "signup": "soon", "paperless": "maybe"}})
    assert bad.status_code == 400
    assert {p["feature"] for p in bad.json()["problems"]} == {"signup", "paperless"}
    assert "soon" not in bad.text and "maybe" not in bad.text


IGNORE_NOTES = json.dumps({"notes": "ignored"})


def test_a_blank_column_is_refused_at_upload_saying_how_to_keep_the_file_as_it_is(client):
    response = send(client, awkward.with_blank_constant_and_leak(), name="leaky", target="churned")
    assert response.status_code == 400
    message = response.json()["message"]
    assert message.startswith("column 'notes' is blank in every row; remove it from the file")
    assert 'column_types {"notes": "ignored"}' in message
    assert client.get("/datasets").json()["items"] == []
    assert client.get("/datasets/leaky").status_code == 404


def test_blank_constant_and_leaking_columns_are_said_and_left_out_or_flagged(client):
    body = send(client, awkward.with_blank_constant_and_leak(), name="leaky", target="churned", column_types=IGNORE_NOTES).json()
    columns = columns_of(body)
    assert (columns["notes"]["kind"], columns["notes"]["role"], columns["notes"]["missing"]) == ("ignored", "left out", 1.0)
    assert "blank in every row" in columns["notes"]["warnings"][0]
    assert columns["country"]["kind"] == "ignored" and "same value" in columns["country"]["warnings"][0]
    assert columns["cancel_reason_code"]["leak"] is True and "leak" in columns["cancel_reason_code"]["warnings"][0]
    assert not columns["fee"]["leak"]
    assert body["features"] == ["plan", "fee", "cancel_reason_code"]
    job = train(client, dataset="leaky", exclude=["cancel_reason_code"])
    schema = client.get(f"/models/{job['model']['name']}/1").json()["features"]
    assert [f["name"] for f in schema] == ["plan", "fee"]


def test_a_blank_column_cannot_be_forced_in_and_nothing_is_stored(client):
    response = send(client, awkward.with_blank_constant_and_leak(), name="leaky", target="churned", column_types=json.dumps({"notes": "numeric"}))
    assert response.status_code == 400
    assert "'notes'" in response.json()["message"]
    assert client.get("/datasets").json()["items"] == []


def test_a_malformed_record_after_multi_line_quotes_is_named_by_record_and_line(client):
    response = send(client, awkward.multiline_then_bad_record(bad_record=4), target="left")
    assert response.status_code == 400
    message = response.json()["message"]
    assert "record 4 (starting on line 8) has 5 fields; the header has 4" in message
    assert "surplus" not in message and "line two" not in message


def test_nfc_and_nfd_forms_are_one_category_at_upload_training_and_scoring(client):
    body = send(client, awkward.unicode_forms(), name="cities", target="left").json()
    assert columns_of(body)["city"]["distinct"] == 2
    job = train(client, dataset="cities", activate=True)  # a toy signal: below the promotion floor
    schema = client.get(f"/models/{job['model']['name']}/1").json()["features"]
    city = next(f for f in schema if f["name"] == "city")
    assert sorted(city["categories"]) == ["Rio", "São Paulo"]
    features = {f["name"]: f["example"] for f in schema}
    nfc = client.post("/predict", json={"features": {**features, "city": "São Paulo"}}).json()
    nfd = client.post("/predict", json={"features": {**features, "city": unicodedata.normalize("NFD", "São Paulo")}}).json()
    assert nfc["churn_probability"] == nfd["churn_probability"]


def test_an_ambiguous_target_is_refused_naming_both_values_and_the_field(client):
    response = send(client, awkward.ambiguous_target(), name="amb", target="status")
    assert response.status_code == 400
    message = response.json()["message"]
    assert "'active'" in message and "'inactive'" in message and "positive_label" in message
    assert client.get("/datasets").json()["items"] == []
    given = send(client, awkward.ambiguous_target(), name="amb", target="status", positive_label="inactive")
    assert given.status_code == 201 and given.json()["positive_label"] == "inactive"
    unknown = send(client, awkward.ambiguous_target(), name="amb2", target="status", positive_label="gone")
    assert unknown.status_code == 400 and "'gone'" in unknown.json()["message"]


def test_a_target_in_german_is_read_the_right_way_round(client):
    body = send(client, awkward.german_target(), name="de", target="Gekündigt").json()
    assert body["positive_label"] == "Ja"
    assert body["positive_rate"] == pytest.approx(20 / 60, abs=1e-6)


def test_column_types_override_the_inference_and_are_checked(client):
    content = awkward.dates_booleans_numeric_id()
    body = send(client, content, name="o", target="Exited", column_types=json.dumps({"RowNumber": "numeric", "signup": "categorical"})).json()
    columns = columns_of(body)
    assert (columns["RowNumber"]["kind"], columns["RowNumber"]["role"]) == ("numeric", "feature")
    assert columns["signup"]["kind"] == "categorical"
    for types, fragment in [
        ({"paperless": "numeric"}, "'paperless'"),
        ({"nope": "numeric"}, "'nope'"),
        ({"spend": "money"}, "kinds are"),
    ]:
        refused = send(client, content, name="o2", target="Exited", column_types=json.dumps(types))
        assert refused.status_code == 400 and fragment in refused.json()["message"], refused.text
    assert send(client, content, name="o3", target="Exited", column_types="{not json").status_code == 400


def test_train_features_must_be_feature_columns(client):
    send(client, awkward.with_blank_constant_and_leak(), name="leaky", target="churned", column_types=IGNORE_NOTES)
    refusals = [
        ({"features": ["fee", "ghost"]}, "'ghost'"),
        ({"features": ["account"]}, "'account'"),
        ({"exclude": ["plan", "fee", "cancel_reason_code"]}, "no feature"),
    ]
    for body, fragment in refusals:
        response = client.post("/train", json={"dataset": "leaky", "model_type": "logistic_regression", **body})
        assert response.status_code == 400 and fragment in response.json()["message"], response.text
    job = train(client, dataset="leaky", features=["fee"])
    assert [f["name"] for f in client.get(f"/models/{job['model']['name']}/1").json()["features"]] == ["fee"]


def test_a_data_set_can_be_removed_and_its_name_reused_models_keep_their_metadata(client):
    send(client, awkward.tab_separated(), name="tsv", target="churn")
    train(client, dataset="tsv")
    assert client.delete("/datasets/tsv").status_code == 204
    assert client.get("/datasets/tsv").status_code == 404
    assert client.delete("/datasets/tsv").status_code == 404
    assert client.get("/models").json()["items"][0]["dataset"] == "tsv"
    assert send(client, awkward.tab_separated(), name="tsv", target="churn").status_code == 201


def test_customers_import_reads_the_same_exports(client):
    response = client.post(
        "/clients/import", files={"file": ("c.csv", awkward.brazilian_export(rows=30), "text/csv")}, data={"id_column": "Código"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["inserted"] == 30
    customer = client.get("/clients/C00003").json()
    assert isinstance(customer["attributes"]["Mensalidade"], float)
    assert customer["attributes"]["Região"] in {"São Paulo", "Paraná", "Ceará", "Goiás"}


def test_models_with_booleans_and_dates_keep_the_compiled_scoring_path(client):
    send(client, awkward.dates_booleans_numeric_id(), name="bank", target="Exited")
    for model_type in ("logistic_regression", "decision_tree"):
        job = train(client, model_type=model_type, dataset="bank")
        ref = f"{job['model']['name']}/{job['model']['version']}"
        assert client.post("/use-model", json={"name": job["model"]["name"], "version": job["model"]["version"]}).status_code == 200
        version = client.get(f"/models/{ref}").json()
        assert version["serving_path"] != "sklearn", version["serving_path"]  # as loaded in this process
        assert version["parity"] is not None and version["parity"] <= 1e-6


def test_the_model_list_stays_small_however_many_categories(client):
    rows = ["id,town,fee,left"] + [f"T{i},town-{i % 400},{i % 13}.5,{'yes' if i % 3 else 'no'}" for i in range(1200)]
    send(client, ("\n".join(rows) + "\n").encode(), name="towns", target="left")
    job = train(client, dataset="towns")
    listed = client.get("/models")
    assert len(listed.content) < 3000
    full = client.get(f"/models/{job['model']['name']}/1").json()
    assert len(next(f for f in full["features"] if f["name"] == "town")["categories"]) > 300
    assert client.get("/models/churn-logistic_regression/9").status_code == 404


@pytest.mark.parametrize("encoding, expected", [("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"), ("latin-1", None), ("utf-8", "utf-8")])
def test_encodings_are_detected(client, encoding, expected):
    body = send(client, awkward.brazilian_export(rows=80, encoding=encoding), name="enc").json()
    assert expected is None or body["reading"]["encoding"] == expected
    assert body["reading"]["encoding"] in {"utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1", "iso8859-15"}
    assert "Débito Automático" in body["columns"] and columns_of(body)["Mensalidade"]["kind"] == "numeric"


def test_an_explicit_decimal_settles_numbers_that_read_both_ways(client):
    rows = ["id,amount,left"] + [f"A{i},{i % 5 + 1}.{(i % 10) * 37:03d},{'yes' if i % 2 else 'no'}" for i in range(60)]
    content = ("\n".join(rows) + "\n").encode()
    default = columns_of(send(client, content, name="d1", target="left").json())["amount"]
    assert default["number_format"] == "plain" and default["maximum"] < 10
    given = columns_of(send(client, content, name="d2", target="left", decimal=",").json())["amount"]
    assert given["number_format"] == "1.234,56" and given["maximum"] > 1000


def test_a_record_shorter_than_the_header_is_named_by_record_and_line_and_nothing_is_stored(client):
    response = send(client, awkward.short_record_after_multiline(bad_record=5), target="left")
    assert response.status_code == 400
    message = response.json()["message"]
    assert "record 5 (starting on line 10) has 2 fields; the header has 4" in message and "Fill in the missing fields" in message
    assert "line two" not in message
    assert client.get("/datasets").json()["items"] == []


def test_trailing_separators_and_rows_blank_in_every_cell_are_still_accepted(client):
    rows = ["id,fee,left"] + [f"R{i},{i % 9}.5,{'yes' if i % 3 else 'no'}," for i in range(40)] + [",,"]
    response = send(client, ("\n".join(rows) + "\n").encode(), name="trailing", target="left")
    assert response.status_code == 201, response.text
    assert response.json()["rows"] == 40 and columns_of(response.json())["fee"]["kind"] == "numeric"


def test_codes_with_leading_zeros_stay_text_at_upload_training_and_import(client):
    body = send(client, awkward.leading_zero_codes(), name="ceps", target="left").json()
    columns = columns_of(body)
    assert (columns["account"]["kind"], columns["cep"]["kind"], columns["month"]["kind"]) == ("identifier", "categorical", "categorical")
    assert {t["value"] for t in columns["cep"]["top"]} <= {"01310", "04538", "20040", "30130", "05402", "09015"}
    assert columns["month"]["distinct"] == 12
    assert columns["fee"]["kind"] == "numeric"
    job = train(client, dataset="ceps", activate=True)
    schema = {f["name"]: f for f in client.get(f"/models/{job['model']['name']}/1").json()["features"]}
    assert schema["cep"]["kind"] == "category" and "01310" in schema["cep"]["categories"] and "01" in schema["month"]["categories"]
    features = {name: spec["example"] for name, spec in schema.items()}
    assert client.post("/predict", json={"features": {**features, "cep": "04538"}}).status_code == 200
    imported = client.post("/clients/import", files={"file": ("c.csv", awkward.leading_zero_codes(rows=30), "text/csv")}, data={"id_column": "account"})
    assert imported.status_code == 200, imported.text
    customer = client.get("/clients/0003").json()
    assert customer["attributes"]["cep"] in {"01310", "04538", "20040", "30130", "05402", "09015"}
    assert customer["attributes"]["month"] in {f"{m:02d}" for m in range(1, 13)} and isinstance(customer["attributes"]["fee"], float)


def test_a_date_that_no_calendar_has_makes_the_column_text_not_a_server_error(client):
    opened = [f"2024-03-{i % 28 + 1:02d}" for i in range(60)]
    opened[7] = "0000-01-01"
    rows = ["id,opened,fee,churn"] + [f"K{i},{day},{10 + i % 7},{'yes' if i % 3 else 'no'}" for i, day in enumerate(opened)]
    response = send(client, ("\n".join(rows) + "\n").encode(), target="churn")
    assert response.status_code == 201, response.text
    assert columns_of(response.json())["opened"]["kind"] != "date"
