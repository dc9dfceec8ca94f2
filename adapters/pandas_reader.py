"""The TableReader port on pandas: one read of the file, then every column's facts computed
vectorised (value counts, number formats and date formats tried on whole columns, separation of
the target), so the domain decides kinds from a few figures per column instead of every cell."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow

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
from churn.profiles import is_identifier

SAMPLE = 200
"""Cells a format must read before it is tried on the whole column."""
TOP = 10
MAX_GROUPS_FOR_SEPARATION = 50
MIN_ROWS_FOR_SEPARATION = 10


class PandasTableReader(TableReader):
    """Arrow buffers (pandas' text columns) go to the system allocator: with Arrow's default
    mimalloc pool the buffers freed by the column passes were kept and the peak memory of an upload
    doubled (106 MB instead of 58 MB for a 22 MB file)."""

    def __init__(self) -> None:
        pyarrow.set_memory_pool(pyarrow.system_memory_pool())

    def read(self, content: bytes, options: ReadOptions, target: str | None = None) -> TableFacts:
        reading = frames.decide_reading(content, options)
        frame = frames.read_frame(content, reading)
        return table_facts(frame, reading, target)

    def records(self, content: bytes, options: ReadOptions) -> RecordTable:
        reading = frames.decide_reading(content, options)
        starts, bad, longer = frames.scan_records(content, reading)
        frame = frames.read_frame(content, reading, skip_long=bool(longer), as_text=True)
        kept = [record for record in range(1, len(starts) + 1) if record not in longer]
        facts = table_facts(frame, reading, None)
        columns: dict[str, np.ndarray] = {}
        for column in facts.columns:
            number = choose_number_format(column, reading.decimal)
            if number is not None and is_identifier(column, len(frame), reading.decimal):
                number = None  # ids and codes are kept as written (00123)
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
    numeric = pd.api.types.is_numeric_dtype(column.dtype)
    counts = None
    top: tuple[tuple[str, int], ...] = ()
    dates: tuple[DateFacts, ...] = ()
    if numeric:
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        numbers: tuple[NumberFacts, ...] = (_number_facts(_native_format(column, reading), values, present, rows),) if present else ()
        distinct = _distinct_numbers(values[present_mask], numbers[0] if numbers else None)
        if distinct <= TOP:
            counts = column.value_counts(dropna=True)
            top = tuple((_label(value), int(count)) for value, count in counts.items())
    else:
        codes = uniques = None
        if _looks_unique(column):
            distinct = int(column.nunique(dropna=True))
        else:
            codes, uniques = pd.factorize(column, use_na_sentinel=True)
            distinct = len(uniques)
            tally = np.bincount(codes[codes >= 0], minlength=distinct)
            order = np.argsort(-tally, kind="stable")[:TOP]
            top = tuple((str(uniques[i]), int(tally[i])) for i in order)
        numbers = _text_numbers(column, present, rows) if present and _has_digits(column) else ()
        if present and not any(n.parsed == present for n in numbers) and _has_digits(column):
            dates = _dates(column, present)
    separation = None
    if y is not None and rows >= MIN_ROWS_FOR_SEPARATION and present:
        full = [n for n in numbers if n.parsed == present]
        if numeric:
            separation = _auc(values, y, numbers[0])
        elif full:
            separation = _auc(frames.number_column(column, full[0].format).to_numpy(dtype=np.float64, na_value=np.nan), y, full[0])
        elif codes is not None and distinct <= MAX_GROUPS_FOR_SEPARATION:
            separation = _balanced_accuracy(codes, distinct, y)
    return ColumnFacts(name, present, int(distinct), top, numbers, dates, separation, first_blank)


def _looks_unique(column: pd.Series) -> bool:
    """A text column whose first cells are nearly all different (ids, free text): only its distinct
    values are counted, not tallied."""
    head = column.dropna().head(1000)
    return len(head) >= 100 and head.nunique() >= 0.9 * len(head)


def _has_digits(column: pd.Series) -> bool:
    """Whether the first cells all hold a digit: else no number or date format can read the column."""
    return all(any(ch.isdigit() for ch in str(v)) for v in column.dropna().head(20))


def _distinct_numbers(values: np.ndarray, facts: NumberFacts | None) -> int:
    if not len(values):
        return 0
    if facts is not None and facts.integral and facts.maximum - facts.minimum < 1_000_000:
        return int(np.count_nonzero(np.bincount((values - facts.minimum).astype(np.int64))))
    return len(pd.unique(values))


def _label(value: object) -> str:
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() and abs(float(value)) < 2**53 else repr(float(value))
    return str(value)


def _native_format(column: pd.Series, reading: Reading) -> NumberFormat:
    """A column pandas read as numbers was written with the reading's decimal mark."""
    if reading.decimal == "," and pd.api.types.is_float_dtype(column.dtype):
        return NumberFormat.COMMA_DECIMAL
    return NumberFormat.PLAIN


def _number_facts(number_format: NumberFormat, values: np.ndarray, present: int, rows: int) -> NumberFacts:
    data = values[~np.isnan(values)]
    integral = bool(np.all(data == np.round(data))) if len(data) else False
    row_number = bool(integral and present == rows and rows > 1 and np.all(np.diff(data) == 1))
    return NumberFacts(
        number_format, present, float(data.min()), float(data.max()), float(data.sum()), integral, row_number
    )


def _text_numbers(column: pd.Series, present: int, rows: int) -> tuple[NumberFacts, ...]:
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
        values = frames.number_column(column, number_format).to_numpy(dtype=np.float64, na_value=np.nan)
        found.append(_number_facts(number_format, values, present, rows))
    return tuple(found)


def _dates(column: pd.Series, present: int) -> tuple[DateFacts, ...]:
    cells = column.dropna()
    sample = cells.head(SAMPLE)
    if not bool(sample.str.match(frames.DATE_LIKE).all()):
        return ()
    if bool(sample.str.match(ISO_LIKE).all()):
        moments = frames.iso_dates(cells)
        if moments is not None:
            first = str(sample.iloc[0])
            date_format = next((f for f in DATE_FORMATS if f in frames.ISO_FORMATS and _reads(first, f)), "%Y-%m-%d")
            return (DateFacts(date_format, present, moments.min().to_pydatetime(), moments.max().to_pydatetime()),)
    found = []
    for date_format in DATE_FORMATS:
        if date_format in frames.ISO_FORMATS:
            continue
        if not bool(frames.date_column(sample, date_format).notna().all()):
            continue
        parsed = frames.date_column(cells, date_format)
        ok = parsed.dropna()
        if len(ok) < present:
            continue
        found.append(DateFacts(date_format, len(ok), ok.min().to_pydatetime(), ok.max().to_pydatetime()))
    return tuple(found)


ISO_LIKE = r"^\d{4}-\d{2}-\d{2}"


def _reads(text: str, date_format: str) -> bool:
    try:
        datetime.strptime(text, date_format)
    except ValueError:
        return False
    return True


AUC_BINS = 4096


def _auc(values: np.ndarray, y: np.ndarray, facts: NumberFacts) -> float | None:
    """ROC AUC of a numeric column in either direction, blanks lowest, over AUC_BINS equal-width bins
    between its minimum and maximum (ties within a bin count half): O(n), no sort, close enough to
    flag a column that separates the target almost perfectly."""
    positives, negatives = int(y.sum()), int(len(y) - y.sum())
    if not positives or not negatives:
        return None
    low, high = facts.minimum, facts.maximum
    scale = (AUC_BINS - 1) / (high - low) if high > low else 0.0
    scaled = (values - low) * scale + 1.0  # blanks (NaN) go to bin 0, below every number
    bins = np.nan_to_num(scaled, nan=0.0).astype(np.int64)
    pos = np.bincount(bins, weights=y, minlength=AUC_BINS + 1)
    neg = np.bincount(bins, minlength=AUC_BINS + 1) - pos
    below = np.cumsum(neg) - neg
    auc = float((pos * (below + 0.5 * neg)).sum() / (positives * negatives))
    return round(max(auc, 1 - auc), 6)


def _balanced_accuracy(codes: np.ndarray, distinct: int, y: np.ndarray) -> float | None:
    """Predicting the (class-balanced) majority target value of each category, blank a category too."""
    positives, negatives = int(y.sum()), int(len(y) - y.sum())
    if not positives or not negatives:
        return None
    shifted = codes + 1  # blank (-1) is category 0
    pos = np.bincount(shifted, weights=y, minlength=distinct + 1)
    neg = np.bincount(shifted, minlength=distinct + 1) - pos
    predicted_positive = pos * negatives > neg * positives
    tpr = pos[predicted_positive].sum() / positives
    tnr = neg[~predicted_positive].sum() / negatives
    return round(float(0.5 * (tpr + tnr)), 6)
