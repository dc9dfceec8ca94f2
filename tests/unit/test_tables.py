from datetime import datetime, timezone

import pytest

from churn.errors import InvalidCustomerFileError, InvalidDatasetError, InvalidRequestError
from churn.tables import DatasetLimits, parse_value, positive_label, profile_dataset, read_customers

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
GOOD = b"id,tenure,plan,Churn\n1,3,a,Yes\n2,40,b,No\n3,5,a,Yes\n4,60,b,No\n"


def profile(content=GOOD, target="Churn", id_column="id", name="ok", limits=DatasetLimits()):
    return profile_dataset(name, content, target, id_column, NOW, limits)


def test_profile_describes_a_trainable_file():
    d = profile()
    assert (d.rows, d.columns, d.positive_label, d.positive_rate) == (4, ("id", "tenure", "plan", "Churn"), "Yes", 0.5)
    assert d.feature_columns == ("tenure", "plan")
    assert len(d.content_hash) == 64


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"", "empty"),
        (b"\x89PNG\x00\x00", "not"),
        (b"id,tenure,plan\n1,2,a\n", "target column 'Churn' is not in the file"),
        (b"id,tenure,Churn\n1,2,Yes\n2,3,No\n3,1,Maybe\n", "not binary"),
        (b"id,tenure,Churn\n1,2,Yes\n2,3,No\n3,1,No\n", "at least 2 rows"),
        (b"id,tenure,Churn\n1,2,Yes\n2,3\n", "line 3 has 2 fields"),
        (b"id,id,Churn\n1,2,Yes\n", "duplicate column"),
        (b"id,tenure,Churn\n1,2,\n2,3,No\n", "blank"),
    ],
)
def test_untrainable_files_are_refused_with_a_reason(content, fragment):
    with pytest.raises(InvalidDatasetError) as info:
        profile(content)
    assert fragment in info.value.message


def test_unknown_id_column_and_bad_name_are_refused():
    with pytest.raises(InvalidDatasetError):
        profile(id_column="customer")
    with pytest.raises(InvalidRequestError):
        profile(name="Bad Name")


def test_row_and_column_limits_apply():
    with pytest.raises(InvalidDatasetError, match="too many rows"):
        profile(limits=DatasetLimits(max_rows=3))
    with pytest.raises(InvalidDatasetError, match="too many columns"):
        profile(limits=DatasetLimits(max_columns=3))


def test_positive_label_prefers_churn_words_then_sort_order():
    assert positive_label(["No", "Yes"]) == "Yes"
    assert positive_label(["0", "1"]) == "1"
    assert positive_label(["stay", "leave"]) == "stay"


def test_parse_value_types_blank_number_and_text():
    assert (parse_value(" "), parse_value("3.5"), parse_value("Yes"), parse_value("nan")) == (None, 3.5, "Yes", "nan")


def test_read_customers_types_columns_as_a_whole_and_reports_bad_lines():
    content = b"customerID,SeniorCitizen,TotalCharges,Partner\nA,0,10.5,Yes\nB,1, ,No\nA,0,1,No\n,1,2,No\nC,1\n"
    rows = read_customers(content, "customerID")
    assert [c.customer_id for c in rows.customers] == ["A", "B"]
    assert rows.customers[1].attributes == {"SeniorCitizen": 1.0, "TotalCharges": None, "Partner": "No"}
    assert [(r.line, r.reason.split(",")[0]) for r in rows.rejected] == [(6, "2 fields"), (4, "duplicate customerID"), (5, "customerID is blank or longer than 128 characters")]


def test_read_customers_needs_the_id_column():
    with pytest.raises(InvalidCustomerFileError, match="id column 'customerID'"):
        read_customers(b"id,x\n1,2\n", "customerID")
