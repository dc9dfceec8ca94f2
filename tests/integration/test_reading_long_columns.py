"""Files long enough for the reader's shortcuts: an id sorted in the file is its own dictionary,
decimals spread over a wide range are counted a window of flags at a time (both measured exactly as
a count made in Python says), and UTF-8 is checked on the first 64 KB only, the rest by the parser."""

from __future__ import annotations

import random

import pytest

from adapters.pandas_reader import PandasTableReader
from churn.columns import ReadOptions

ROWS = 170_000  # enough rows for a range of 25,000,000 cents to be counted by windows


def test_sorted_ids_repeated_ids_and_wide_amounts_are_counted_exactly() -> None:
    rng = random.Random(4)
    customers = [f"C{i:07d}" for i in range(ROWS)]
    accounts = [f"A{i:07d}" for i in range(ROWS)]
    accounts[ROWS // 2] = accounts[ROWS // 2 - 1]  # sorted but one repeated: not every row its own value
    amounts = [f"{rng.randint(0, 25_000_000) / 100:.2f}" for _ in range(ROWS)]
    amounts[:3] = ["-0.00", "0.00", "0.00"]  # one number however it is written
    churn = [rng.choice(["yes", "no"]) for _ in range(ROWS)]
    lines = ["customer,account,amount,churn", *map(",".join, zip(customers, accounts, amounts, churn, strict=True))]

    facts = PandasTableReader().read(("\n".join(lines) + "\n").encode(), ReadOptions(), "churn")

    columns = {c.name: c for c in facts.columns}
    assert columns["customer"].distinct == ROWS
    assert columns["customer"].top[:2] == (("C0000000", 1), ("C0000001", 1))
    assert columns["account"].distinct == ROWS - 1
    assert columns["account"].top[0] == (accounts[ROWS // 2], 2)
    assert columns["amount"].distinct == len({float(a) for a in amounts})
    assert columns["amount"].numbers[0].minimum == 0.0
    assert columns["amount"].numbers[0].maximum == max(float(a) for a in amounts)


@pytest.mark.parametrize("column", ["region", "code"])
def test_a_western_byte_past_the_first_block_is_read_in_that_encoding(column: str) -> None:
    """The encoding is guessed from the first 64 KB; a cp1252 'ã' further on (in a column of a few
    categories, or in one of all different codes) sends the whole file back to the guess."""
    rows = [f"K{i:05d},Norte,{'yes' if i % 3 else 'no'}" for i in range(5000)]  # ~90 KB of ASCII
    rows[-1] = "São K,São Paulo,no" if column == "region" else "Kã4999,Norte,no"
    content = ("code,region,churn\n" + "\n".join(rows) + "\n").encode("cp1252")

    facts = PandasTableReader().read(content, ReadOptions(), "churn")

    assert facts.reading.encoding == "cp1252"
    columns = {c.name: c for c in facts.columns}
    if column == "region":
        assert dict(columns["region"].top) == {"Norte": 4999, "São Paulo": 1}
    else:
        assert columns["code"].distinct == 5000
