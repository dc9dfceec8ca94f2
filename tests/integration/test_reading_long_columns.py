"""Columns long enough for the reader's shortcuts (an id sorted in the file is its own dictionary;
decimals spread over a wide range are counted a window of flags at a time) are measured exactly as
a count made in Python says."""

from __future__ import annotations

import random

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
