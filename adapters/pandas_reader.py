"""The TableReader port on pandas: one read of the file, then every column's facts computed
vectorised (value counts, number formats and date formats tried on whole columns, separation of
the target), so the domain decides kinds from a few figures per column instead of every cell."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from adapters import frames
from churn.columns import (
    DATE_FORMATS,
    ColumnFacts,
    DateFacts,
    NumberFacts,
    NumberFormat,
    Reading,
    ReadOptions,
    TableFacts,
    choose_number_format,
)
from churn.ports import RecordTable, TableReader

SAMPLE = 200
"""Cells a format must read before it is tried on the whole column."""
TOP = 10
MAX_GROUPS_FOR_SEPARATION = 50
MIN_ROWS_FOR_SEPARATION = 10


class PandasTableReader(TableReader):
    def read(self, content: bytes, options: ReadOptions, target: str | None = None) -> TableFacts:
        reading = frames.decide_reading(content, options)
        frame = frames.read_frame(content, reading)
        return table_facts(frame, reading, target)

    def records(self, content: bytes, options: ReadOptions) -> RecordTable:
        reading = frames.decide_reading(content, options)
        starts, bad, longer = frames.scan_records(content, reading)
        frame = frames.read_frame(content, reading, skip_long=bool(longer))
        kept = [record for record in range(1, len(starts) + 1) if record not in longer]
        facts = table_facts(frame, reading, None)
        columns: dict[str, np.ndarray] = {}
        for column in facts.columns:
            number = choose_number_format(column, reading.decimal)
            series = frame[column.name]
            if number is not None and column.present:
                values = frames.number_column(series, number.format).to_numpy(dtype=object)
            else:
                values = frames.text_values(series).to_numpy(dtype=object)
            columns[column.name] = values
        names = list(columns)
        left_out = {record for record, _, _ in bad}
        rows = []
        for position, index in enumerate(frame.index):
            record = kept[int(index)] if int(index) < len(kept) else int(index) + 1
            if record not in left_out:
                line = starts[record - 1] if record <= len(starts) else record + 1
                rows.append((record, line, {name: _plain(columns[name][position]) for name in names}))
        return RecordTable(facts, rows, bad)


def _plain(value):
    if value is None:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, (np.floating, np.integer)):
        number = float(value)
        return None if math.isnan(number) else number
    return str(value)


def table_facts(frame: pd.DataFrame, reading: Reading, target: str | None) -> TableFacts:
    rows = len(frame)
    y = _target_codes(frame[target]) if target in frame.columns else None
    columns = tuple(
        column_facts(name, frame[name], rows, reading, None if name == target else y) for name in frame.columns
    )
    return TableFacts(reading, rows, columns)


def _target_codes(column: pd.Series) -> np.ndarray | None:
    values = column.dropna()
    if len(values) != len(column) or values.nunique() != 2:
        return None
    first = values.iloc[0]
    return (column == first).to_numpy(dtype=bool)


def column_facts(name: str, column: pd.Series, rows: int, reading: Reading, y: np.ndarray | None) -> ColumnFacts:
    present_mask = column.notna().to_numpy()
    present = int(present_mask.sum())
    first_blank = int(np.flatnonzero(~present_mask)[0]) + 1 if present < rows else None
    counts = column.value_counts(dropna=True)
    top = tuple((_label(value), int(count)) for value, count in counts.head(TOP).items())
    numbers = _numbers(column, present, rows, reading) if present else ()
    dates = _dates(column, present) if present and not pd.api.types.is_numeric_dtype(column.dtype) else ()
    separation = None
    if y is not None and rows >= MIN_ROWS_FOR_SEPARATION and present:
        separation = _separation(column, numbers, len(counts), y)
    return ColumnFacts(name, present, int(len(counts)), top, numbers, dates, separation, first_blank)


def _label(value) -> str:
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() and abs(value) < 2**53 else repr(float(value))
    return str(value)


def _number_facts(number_format: NumberFormat, values: pd.Series, present: int, rows: int) -> NumberFacts:
    data = values.dropna().to_numpy(dtype=np.float64)
    integral = bool(np.all(data == np.round(data))) if len(data) else False
    row_number = bool(integral and present == rows and rows > 1 and np.all(np.diff(data) == 1))
    return NumberFacts(
        number_format, present, float(data.min()), float(data.max()), float(data.sum()), integral, row_number
    )


def _numbers(column: pd.Series, present: int, rows: int, reading: Reading) -> tuple[NumberFacts, ...]:
    if pd.api.types.is_numeric_dtype(column.dtype):
        native = NumberFormat.COMMA_DECIMAL if reading.decimal == "," and pd.api.types.is_float_dtype(column.dtype) else NumberFormat.PLAIN
        return (_number_facts(native, column, present, rows),)
    cells = column.dropna()
    sample = cells.head(SAMPLE)
    found = []
    for number_format in NumberFormat:
        if not bool(frames.matches(sample, number_format).all()):
            continue
        parsed = int(frames.matches(cells, number_format).sum())
        if parsed < present:
            found.append(NumberFacts(number_format, parsed, 0.0, 0.0, 0.0, False, False))
            continue
        found.append(_number_facts(number_format, frames.number_column(column, number_format), present, rows))
    return tuple(found)


def _dates(column: pd.Series, present: int) -> tuple[DateFacts, ...]:
    cells = column.dropna()
    sample = cells.head(SAMPLE)
    found = []
    for date_format in DATE_FORMATS:
        if not bool(frames.date_column(sample, date_format).notna().all()):
            continue
        parsed = frames.date_column(cells, date_format)
        ok = parsed.dropna()
        if len(ok) < present:
            continue
        found.append(DateFacts(date_format, len(ok), ok.min().to_pydatetime(), ok.max().to_pydatetime()))
    return tuple(found)


def _separation(column: pd.Series, numbers: tuple[NumberFacts, ...], distinct: int, y: np.ndarray) -> float | None:
    """ROC AUC (either direction) of a numeric column, blanks lowest; else the balanced accuracy of
    predicting the majority target value of each category (blank is a category)."""
    full = [n for n in numbers if n.parsed == len(column.dropna())]
    positives, negatives = int(y.sum()), int((~y).sum())
    if not positives or not negatives:
        return None
    if full:
        values = frames.number_column(column, full[0].format).to_numpy(dtype=np.float64)
        values = np.where(np.isnan(values), -np.inf, values)
        ranks = pd.Series(values).rank(method="average").to_numpy()
        auc = (ranks[y].sum() - positives * (positives + 1) / 2) / (positives * negatives)
        return round(float(max(auc, 1 - auc)), 6)
    if distinct > MAX_GROUPS_FOR_SEPARATION:
        return None
    groups = pd.DataFrame({"value": column.fillna("\x00blank").to_numpy(dtype=object), "y": y})
    table = groups.groupby("value", sort=False)["y"].agg(["sum", "count"])
    pos = table["sum"].to_numpy()
    neg = table["count"].to_numpy() - pos
    predicted_positive = pos * negatives > neg * positives  # majority after balancing the classes
    tpr = pos[predicted_positive].sum() / positives
    tnr = neg[~predicted_positive].sum() / negatives
    return round(float(0.5 * (tpr + tnr)), 6)
