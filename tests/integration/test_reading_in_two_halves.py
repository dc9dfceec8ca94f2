"""A large UTF-8 or Western single-byte file without quotes is parsed in two halves at once (`frames.SPLIT_BYTES`): its
profile, its trainer frame and its refusals are those of the file parsed whole. The threshold is
lowered here so that small files take that path."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from adapters import frames
from adapters.pandas_reader import PandasTableReader
from churn.columns import ReadOptions
from churn.errors import InvalidDatasetError
from tests.support import awkward


def _late_surprises(rows: int = 3000) -> list[str]:
    """Cells the first records do not announce, in the second half: a fee that is not a number,
    integers written 007 / 0x1F / -0 / +5, an ISO day that no calendar has; and rows blank in
    every cell on both sides of the middle."""
    rng = random.Random(6)
    lines = ["id,fee,count,day,plan,churn"]
    odd = {rows - 400: "007", rows - 300: "0x1F", rows - 200: "-0", rows - 100: "+5"}
    for i in range(rows):
        fee = "n/a" if i == rows - 50 else f"{i % 97}.25"
        day = "2024-02-30" if i == rows - 10 else f"2024-0{1 + i % 9}-1{i % 10}"
        lines.append(f"Q{i},{fee},{odd.get(i, str(i % 13))},{day},{rng.choice(['a', 'b', ' c'])},{'yes' if i % 4 else 'no'}")
        if i % 700 == 699:
            lines.append(",,,,,")
    return lines


def _read_both_ways(monkeypatch: pytest.MonkeyPatch, content: bytes, target: str):
    reader = PandasTableReader()
    whole = reader.read(content, ReadOptions(), target)
    whole_frame = frames.read_frame(content, whole.reading)
    monkeypatch.setattr(frames, "SPLIT_BYTES", 0)
    halves = reader.read(content, ReadOptions(), target)
    return whole, halves, whole_frame, frames.read_frame(content, halves.reading)


@pytest.mark.parametrize(
    "name, content, target",
    [
        ("late surprises", ("\n".join(_late_surprises()) + "\n").encode(), "churn"),
        ("no final newline", "\n".join(_late_surprises()).encode(), "churn"),
        ("CRLF, tabs", awkward.tab_separated(rows=2000).replace(b"\n", b"\r\n"), "churn"),
        ("BOM, NFD", b"\xef\xbb\xbf" + awkward.unicode_forms(rows=2000), "left"),
        ("leading zeros", awkward.leading_zero_codes(rows=2000), "left"),
        ("pt-BR cp1252", awkward.brazilian_export(rows=3000), "Cancelou"),
        ("cp1252 past the first block", ("\n".join(_late_surprises()) + "\nZ,1.25,1,2024-01-11,ação,no\n").encode("cp1252"), "churn"),
    ],
)
def test_a_file_read_in_two_halves_has_the_profile_of_the_file_read_whole(
    monkeypatch: pytest.MonkeyPatch, name: str, content: bytes, target: str
) -> None:
    whole, halves, whole_frame, halves_frame = _read_both_ways(monkeypatch, content, target)

    assert halves == whole
    pd.testing.assert_frame_equal(halves_frame, whole_frame, check_exact=True)


@pytest.mark.parametrize("where", ["first half", "second half"])
def test_a_malformed_record_in_either_half_is_named_as_in_the_whole_file(monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    lines = _late_surprises()
    bad = 500 if where == "first half" else 2600
    lines[bad] += ",surplus"
    content = ("\n".join(lines) + "\n").encode()
    monkeypatch.setattr(frames, "SPLIT_BYTES", 0)

    with pytest.raises(InvalidDatasetError) as refused:
        PandasTableReader().read(content, ReadOptions(), "churn")

    assert f"record {bad} (starting on line {bad + 1}) has 7 fields" in str(refused.value)  # blank rows are records too
