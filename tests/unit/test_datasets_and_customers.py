from datetime import datetime, timezone

import pytest

from adapters.pandas_reader import PandasTableReader
from churn.columns import ReadOptions
from churn.errors import InvalidCustomerFileError, InvalidDatasetError, InvalidRequestError
from churn.customers import customers_from_records, parse_value
from churn.datasets import DatasetLimits
from tests.support.profiling import profile_dataset

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
GOOD = b"id,tenure,plan,Churn\n1,3,a,Yes\n2,40,b,No\n3,5,a,Yes\n4,60,b,No\n"


def profile(content=GOOD, target="Churn", id_column="id", name="ok", limits=DatasetLimits(), **options):
    return profile_dataset(name, content, target, id_column, NOW, limits, **options)


def test_profile_describes_a_trainable_file():
    d = profile()
    assert (d.rows, d.columns, d.positive_label, d.positive_rate) == (4, ("id", "tenure", "plan", "Churn"), "Yes", 0.5)
    assert d.feature_columns == ("tenure", "plan")
    assert len(d.content_hash) == 64


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"", "empty"),
        (b"\x89PNG\x00\x00", "binary"),
        (b"id,tenure,plan\n1,2,a\n", "target column 'Churn' is not in the file"),
        (b"id,tenure,Churn\n1,2,Yes\n2,3,No\n3,1,Maybe\n", "exactly two values"),
        (b"id,tenure,Churn\n1,2,Yes\n2,3,No\n3,1,No\n", "at least 2"),
        (b"id,tenure,Churn\n1,2,Yes\n2,3,No,extra\n", "record 2 (starting on line 3) has 4 fields; the header has 3"),
        (b"id,id,Churn\n1,2,Yes\n", "duplicate column"),
        (b"id,tenure,Churn\n1,2,\n2,3,No\n", "blank"),
        (b"justonecolumn\n1\n2\n", "at least two columns"),
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


def test_positive_label_is_a_churn_word_or_the_given_value():
    assert profile().positive_label == "Yes"
    assert profile(b"id,tenure,Churn\n1,3,0\n2,40,1\n3,5,0\n4,60,1\n").positive_label == "1"
    assert profile(b"id,tenure,Status\n1,3,stay\n2,40,leave\n3,5,stay\n4,60,leave\n", target="Status", positive_label="LEAVE").positive_label == "leave"
    with pytest.raises(InvalidDatasetError, match=r"'leave' and 'stay'|'stay' and 'leave'") as info:
        profile(b"id,tenure,Status\n1,3,stay\n2,40,leave\n3,5,stay\n4,60,leave\n", target="Status")
    assert "positive_label" in info.value.message


def test_parse_value_types_blank_number_and_text():
    assert (parse_value(" "), parse_value("3.5"), parse_value("Yes"), parse_value("nan")) == (None, 3.5, "Yes", "nan")


def test_customers_are_typed_as_whole_columns_and_bad_ids_reported_by_line():
    content = b"customerID,SeniorCitizen,TotalCharges,Partner\nA,0,10.5,Yes\nB,1, ,No\nA,0,1,No\n,1,2,No\n"
    rows = customers_from_records(PandasTableReader().records(content, ReadOptions()), "customerID")
    assert [c.customer_id for c in rows.customers] == ["A", "B"]
    assert rows.customers[1].attributes == {"SeniorCitizen": 1.0, "TotalCharges": None, "Partner": "No"}
    assert [(r.line, r.reason.split(",")[0]) for r in rows.rejected] == [
        (4, "duplicate customerID"),
        (5, "customerID is blank or longer than 128 characters (record 4)"),
    ]


def test_customers_need_the_id_column():
    with pytest.raises(InvalidCustomerFileError, match=r"id column .customerID."):
        customers_from_records(PandasTableReader().records(b"id,x\n1,2\n", ReadOptions()), "customerID")
