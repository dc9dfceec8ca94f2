"""The TableReader port: one read of the file (Arrow's CSV reader for data sets, pandas for the
row-by-row customer import), then every column's facts computed vectorised (value counts, number
formats and date formats tried on the distinct values of a text column, separation of the target),
so the domain decides kinds from a few figures per column instead of every cell."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
import hashlib
import math
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.compute as pc

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
    """Data sets are parsed by Arrow's CSV reader (`frames.read_table`) and measured on its columns;
    customers by pandas, as text, so that bad records can be reported row by row and the rest loaded.
    Arrow buffers go to the system allocator: with Arrow's default mimalloc pool the buffers freed by
    the column passes were kept and the peak memory of an upload doubled."""

    def __init__(self) -> None:
        pyarrow.set_memory_pool(pyarrow.system_memory_pool())

    def read(self, content: bytes, options: ReadOptions, target: str | None = None) -> TableFacts:
        """The file's SHA-256 is computed in a thread while Arrow parses (hashlib releases the GIL)."""
        with ThreadPoolExecutor(max_workers=1) as hasher:
            digest = hasher.submit(lambda: hashlib.sha256(content).hexdigest())
            reading = frames.decide_reading(content, options, whole=False)
            try:
                table = frames.read_table(content, reading)
            except frames.NotUtf8Error:
                if options.encoding:
                    raise
                reading = frames.decide_reading(content, options)  # a Western encoding past the first block
                table = frames.read_table(content, reading)
            facts = table_facts(table, reading, target)
            return dataclasses.replace(facts, content_hash=digest.result())

    def records(self, content: bytes, options: ReadOptions) -> RecordTable:
        reading = frames.decide_reading(content, options)
        starts, bad, longer = frames.scan_records(content, reading)
        frame = frames.read_text_frame(content, reading, skip_long=bool(longer))
        kept = [record for record in range(1, len(starts) + 1) if record not in longer]
        facts = table_facts(frames.table_from_frame(frame), reading, None)
        columns: dict[str, np.ndarray] = {}
        for column in facts.columns:
            number = choose_number_format(column, reading.decimal)
            if number is not None and is_identifier(column, len(frame), reading.decimal):
                number = None  # ids and codes are kept as written
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


def table_facts(table: frames.Table, reading: Reading, target: str | None) -> TableFacts:
    flags = _target_codes(table.column(target)) if target in table.names else None
    y = None if flags is None else _Target(flags.astype(np.intp), (flags + 2).astype(np.int32))
    columns = tuple(
        column_facts(name, column, table, reading, None if name == target else y)
        for name, column in zip(table.names, table.columns, strict=True)
    )
    return TableFacts(reading, table.rows, columns)


@dataclass(frozen=True, slots=True)
class _Target:
    """The target per row: `flags` 1 where it has the first row's value, else 0 (intp, as the
    numeric AUC's bins); `shifted` the same plus 2, in int32, so that 2 x code + shifted keys a text
    column's tally by (value, target) in two int32 passes, its blanks (code -1) at 0 and 1."""

    flags: np.ndarray
    shifted: np.ndarray


def _target_codes(column: frames.Column) -> np.ndarray | None:
    """The target as booleans (first row's value True) when it has two values and no blank."""
    if isinstance(column, frames.NumberColumn):
        values = column.values
        if np.isnan(values).any() or len(np.unique(values)) != 2:
            return None
        return values == values[0]
    codes = column.codes
    if not len(codes) or (codes < 0).any() or np.count_nonzero(np.bincount(codes)) != 2:
        return None
    return codes == codes[0]


def column_facts(name: str, column: frames.Column, table: frames.Table, reading: Reading, y: _Target | None) -> ColumnFacts:
    rows = table.rows
    top: tuple[tuple[str, int], ...] = ()
    dates: tuple[DateFacts, ...] = ()
    separation = None
    if isinstance(column, frames.NumberColumn):
        blank = column.blank()
        present = int(rows - np.count_nonzero(blank))
        first_blank = table.record_of(int(np.argmax(blank))) if present < rows else None
        measured = y is not None and rows >= MIN_ROWS_FOR_SEPARATION and present > 0
        values = column.values
        data = values if present == rows else values[~blank]
        numbers: tuple[NumberFacts, ...] = (_number_facts(_native_format(reading), data, present, rows),) if present else ()
        distinct = _distinct_numbers(data, numbers[0] if numbers else None)
        if distinct <= TOP:
            found, counts = np.unique(data, return_counts=True)
            order = np.argsort(-counts, kind="stable")
            top = tuple((_label(found[i]), int(counts[i])) for i in order)
        if measured and numbers and y is not None:
            separation = _auc(values, y.flags, numbers[0])
        return ColumnFacts(name, present, int(distinct), top, numbers, dates, separation, first_blank)
    codes, values = column.codes, column.values
    tally = None
    if y is not None and rows >= MIN_ROWS_FOR_SEPARATION:  # rows per (blank, values) x (other, churned), in one pass
        key = codes * 2
        key += y.shifted
        tally = np.bincount(key, minlength=2 * (len(values) + 1)).reshape(-1, 2)
        del key
        counts = tally[1:, 0] + tally[1:, 1]
        blanks = int(tally[0, 0] + tally[0, 1])
    else:
        counts = np.bincount(codes + 1, minlength=len(values) + 1)
        blanks = int(counts[0])
        counts = counts[1:]
    present = rows - blanks
    first_blank = table.record_of(int(np.argmax(codes < 0))) if blanks else None
    if not present:
        tally = None
    used = np.flatnonzero(counts)
    distinct = len(used)
    if distinct:
        top = tuple((str(values[int(i)].as_py()), int(counts[i])) for i in _most_frequent(counts, used))
    present_values = values.take(pyarrow.array(used)) if distinct < len(values) else values
    digits = present and _has_digits(present_values)
    numbers, parsed = _text_numbers(values, counts, codes, present, rows) if digits else ((), None)
    if digits and parsed is None:
        dates = _dates(present_values, present)
    if tally is not None and (parsed is not None or distinct <= MAX_GROUPS_FOR_SEPARATION):
        positives, blank_positives = tally[1:, 1], int(tally[0, 1])
        if parsed is not None:
            separation = _auc_by_value(parsed[1], counts, positives, rows - present, blank_positives, parsed[0])
        else:
            separation = _balanced_accuracy(counts, positives, rows - present, blank_positives)
    return ColumnFacts(name, present, int(distinct), top, numbers, dates, separation, first_blank)


def _most_frequent(counts: np.ndarray, used: np.ndarray) -> np.ndarray:
    """The TOP most frequent values' indices, ties in order of first appearance."""
    if len(used) > 4 * TOP and counts.max() == 1:  # every value once (an id)
        return used[:TOP]
    if len(used) > 4 * TOP:
        threshold = np.partition(counts[used], len(used) - TOP)[len(used) - TOP]
        above = used[counts[used] > threshold]
        used = np.concatenate((above, used[counts[used] == threshold][: TOP - len(above)]))  # the first of the tied ones only
    return used[np.argsort(-counts[used], kind="stable")[:TOP]]


def _has_digits(values: pyarrow.Array) -> bool:
    """Whether the first values all hold a digit: else no number or date format can read the column."""
    return frames.every(pc.match_substring_regex(values[:20], r"\d"))


def _distinct_numbers(values: np.ndarray, facts: NumberFacts | None) -> int:
    """Exact distinct count of numbers without blanks: flags per possible value when they are
    decimals with a few places in a bounded range (`_decimal_keys`: amounts, counts, ages), else a
    hash table (which misses the cache on nearly every number of a column of all different ones)."""
    if not len(values):
        return 0
    decimals = _decimal_keys(values, facts) if facts is not None else None
    if decimals is None:
        return len(pd.unique(values))
    keys, span = decimals
    if span <= WINDOW:
        flags = np.zeros(span, dtype=np.bool_)
        flags[keys] = True
        return int(np.count_nonzero(flags))
    window = (keys >> WINDOW_BITS).astype(np.uint16)  # a wide range: one window of flags at a time
    ends = np.cumsum(np.bincount(window))
    ordered = keys[np.argsort(window, kind="stable")]  # a radix sort of 16-bit window numbers
    flags = np.zeros(WINDOW, dtype=np.bool_)
    distinct, start = 0, 0
    for end in ends.tolist():
        if end > start:
            flags[:] = False
            flags[ordered[start:end] & (WINDOW - 1)] = True
            distinct += int(np.count_nonzero(flags))
        start = end
    return distinct


MAX_PLACES = 6
PLACES_SAMPLE = 2048
WINDOW_BITS = 22
WINDOW = 1 << WINDOW_BITS
KEYS_PER_ROW = 128
"""`_distinct_numbers` counts at most WINDOW + KEYS_PER_ROW x rows possible values, WINDOW at a time."""


def _decimal_keys(values: np.ndarray, facts: NumberFacts) -> tuple[np.ndarray, int] | None:
    """Each number as an integer count of its last decimal place (29.85 -> 2985 with two places),
    from 0, and the span of those integers; None unless every number is exactly such a decimal
    (checked: k / 10**places == value for each, so equal numbers and equal keys are the same thing)
    and the span is at most WINDOW + KEYS_PER_ROW x rows."""
    if not (math.isfinite(facts.minimum) and math.isfinite(facts.maximum)):
        return None
    head = values[:PLACES_SAMPLE]
    scale = next((10.0**p for p in range(MAX_PLACES + 1) if np.array_equal(np.rint(head * 10.0**p) / 10.0**p, head)), None)
    if scale is None or max(abs(facts.minimum), abs(facts.maximum)) * scale >= 2**52:
        return None
    low = round(facts.minimum * scale)
    span = round(facts.maximum * scale) - low + 1
    if span > WINDOW + KEYS_PER_ROW * len(values):
        return None
    scaled = np.rint(values * scale)
    if not np.array_equal(scaled / scale, values):
        return None
    scaled -= low
    return scaled.astype(np.intp), span


def _label(value: object) -> str:
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() and abs(float(value)) < 2**53 else repr(float(value))
    return str(value)


def _native_format(reading: Reading) -> NumberFormat:
    """A column Arrow read as numbers was written with the reading's decimal mark."""
    return NumberFormat.COMMA_DECIMAL if reading.decimal == "," else NumberFormat.PLAIN


def _number_facts(number_format: NumberFormat, data: np.ndarray, present: int, rows: int) -> NumberFacts:
    """`data`: the column's numbers without its blanks."""
    head = data[:PLACES_SAMPLE]
    integral = bool(len(data) and np.all(head == np.round(head)) and np.all(data == np.round(data)))
    row_number = bool(integral and present == rows and rows > 1 and np.all(np.diff(data) == 1))
    return NumberFacts(
        number_format, present, float(data.min()), float(data.max()), float(data.sum()), integral, row_number
    )


def _text_numbers(
    values: pyarrow.Array, counts: np.ndarray, codes: np.ndarray, present: int, rows: int
) -> tuple[tuple[NumberFacts, ...], tuple[NumberFacts, np.ndarray] | None]:
    """Every number format that reads the first distinct values, with how many cells it reads; and
    the first that reads every cell, with each distinct value as a number under it (None when no
    format reads every cell). Measured on the distinct values weighted by their counts."""
    sample = values[:SAMPLE]
    found: list[NumberFacts] = []
    full = None
    integers = None
    for number_format in NumberFormat:
        if not frames.every(frames.arrow_matches(sample, number_format)):
            continue
        if found and integers is None:  # only integers: every format reads the same
            integers = not bool(pc.any(pc.match_substring_regex(values, r"[.,eE]")).as_py())
        if integers and found:
            found.append(dataclasses.replace(found[0], format=number_format))
            continue
        matched = frames.arrow_matches(values, number_format).to_numpy(zero_copy_only=False)
        parsed = int(counts[matched].sum())
        if parsed < present:
            found.append(NumberFacts(number_format, parsed, 0.0, 0.0, 0.0, False, False))
            continue
        numbers = frames.arrow_numbers(values, number_format)
        used = numbers[counts > 0]
        integral = bool(np.all(used == np.round(used)))
        row_number = bool(
            integral and present == rows == len(used) and rows > 1 and np.all(np.diff(numbers[codes]) == 1)
        )
        facts = NumberFacts(
            number_format, present, float(used.min()), float(used.max()), float((numbers * counts).sum()), integral, row_number
        )
        found.append(facts)
        full = full or (facts, numbers)
    return tuple(found), full


def _dates(values: pyarrow.Array, present: int) -> tuple[DateFacts, ...]:
    """The date formats that read every distinct value (so every cell), with the earliest and latest."""
    head = values[:SAMPLE]
    if not frames.every(pc.match_substring_regex(head, frames.DATE_LIKE)):
        return ()
    if frames.every(pc.match_substring_regex(head, ISO_LIKE)):
        try:  # Arrow's strict ISO parser, as `frames.iso_dates`; year 0 (0000-01-01) parses but is no date
            moments = pc.min_max(pc.cast(values, pyarrow.timestamp("us")))
            earliest, latest = moments["min"].as_py(), moments["max"].as_py()
        except (pyarrow.ArrowInvalid, pyarrow.ArrowNotImplementedError, OverflowError, ValueError):
            moments = None
        if moments is not None:
            first = str(head[0].as_py())
            date_format = next((f for f in DATE_FORMATS if f in frames.ISO_FORMATS and _reads(first, f)), "%Y-%m-%d")
            return (DateFacts(date_format, present, earliest, latest),)
    cells = values.to_pandas()
    sample = cells.head(SAMPLE)
    found = []
    for date_format in DATE_FORMATS:
        if date_format in frames.ISO_FORMATS:
            continue
        if not bool(frames.date_column(sample, date_format).notna().all()):
            continue
        parsed = frames.date_column(cells, date_format)
        if bool(parsed.isna().any()):
            continue
        found.append(DateFacts(date_format, present, parsed.min().to_pydatetime(), parsed.max().to_pydatetime()))
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
    scaled = values - low
    scaled *= scale
    scaled += 1.0
    bins = np.nan_to_num(scaled, copy=False, nan=0.0).astype(np.intp)  # blanks (NaN) go to bin 0, below every number
    bins *= 2
    bins += y
    tally = np.bincount(bins, minlength=2 * (AUC_BINS + 1)).reshape(-1, 2)  # per bin: (other, churned)
    neg, pos = tally[:, 0], tally[:, 1]
    below = np.cumsum(neg) - neg
    auc = float((pos * (below + 0.5 * neg)).sum() / (positives * negatives))
    return round(max(auc, 1 - auc), 6)


def _auc_by_value(
    numbers: np.ndarray, counts: np.ndarray, positives: np.ndarray, blanks: int, blank_positives: int, facts: NumberFacts
) -> float | None:
    """`_auc` for a text column read as numbers, from its distinct values: each value's rows and
    churners fall in the value's bin, blanks in bin 0."""
    total_positives = int(positives.sum()) + blank_positives
    total = int(counts.sum()) + blanks
    if not total_positives or total_positives == total:
        return None
    low, high = facts.minimum, facts.maximum
    scale = (AUC_BINS - 1) / (high - low) if high > low else 0.0
    bins = ((np.nan_to_num(numbers, nan=low) - low) * scale + 1.0).astype(np.int64)
    pos = np.bincount(bins, weights=positives, minlength=AUC_BINS + 1)
    neg = np.bincount(bins, weights=counts - positives, minlength=AUC_BINS + 1)
    pos[0] += blank_positives
    neg[0] += blanks - blank_positives
    below = np.cumsum(neg) - neg
    auc = float((pos * (below + 0.5 * neg)).sum() / (total_positives * (total - total_positives)))
    return round(max(auc, 1 - auc), 6)


def _balanced_accuracy(counts: np.ndarray, positives: np.ndarray, blanks: int, blank_positives: int) -> float | None:
    """Predicting the (class-balanced) majority target value of each category, blank a category too."""
    pos = np.append(positives, blank_positives).astype(np.float64)
    neg = np.append(counts - positives, blanks - blank_positives).astype(np.float64)
    total_positives, total_negatives = pos.sum(), neg.sum()
    if not total_positives or not total_negatives:
        return None
    predicted_positive = pos * total_negatives > neg * total_positives
    tpr = pos[predicted_positive].sum() / total_positives
    tnr = neg[~predicted_positive].sum() / total_negatives
    return round(float(0.5 * (tpr + tnr)), 6)
