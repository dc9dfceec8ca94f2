"""Reading exported CSV/TSV files into pandas, shared by the table reader and the trainer so that a
data set is read at training exactly as it was profiled at upload.

pandas' C reader does the parsing (quotes, separators inside quotes, newlines inside quotes);
charset-normalizer names the encoding of a file that is not UTF-8; the standard library's csv module
looks at the first records to find the separator, and re-reads a file pandas refused to say which
record is malformed and on which physical line.
"""

from __future__ import annotations

import codecs
import csv
import ctypes
import io
import math
import re
import unicodedata
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from churn.columns import DELIMITERS, NumberFormat, Reading, ReadOptions, nfc
from churn.errors import InvalidDatasetError

SAMPLE_BYTES = 64 * 1024
SAMPLE_RECORDS = 50
TYPE_SAMPLE_RECORDS = 200
"""Records (within the first SAMPLE_BYTES) that decide how Arrow reads each column."""
UTF8_CHUNK = 1 << 20
WESTERN_ENCODINGS = ["cp1252", "iso8859_15", "latin_1"]

_COMMA_DECIMAL_CELL = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+),\d+$")
_DOT_DECIMAL_CELL = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)\.\d+$")

DATE_LIKE = r"^\s*\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}"
"""What a cell must start with before the date formats are tried on its column."""

NUMBER_PATTERNS = {
    NumberFormat.PLAIN: r"[+-]?((0|[1-9]\d*)(\.\d*)?|\.\d+)([eE][+-]?\d+)?",
    NumberFormat.DOT_DECIMAL: r"[+-]?([1-9]\d{0,2}(,\d{3})+|0|[1-9]\d*)(\.\d+)?",
    NumberFormat.COMMA_DECIMAL: r"[+-]?([1-9]\d{0,2}(\.\d{3})+|0|[1-9]\d*)(,\d+)?",
}
"""A whole number part never starts with 0 (but 0 itself): codes such as 00123, ZIP codes, ids like
0042 are text, not numbers, so they keep their zeros (at upload, at training and in the customers)."""


def decide_reading(content: bytes, options: ReadOptions, whole: bool = True) -> Reading:
    """Encoding, separator and decimal mark: the given ones, else detected from the content. Not
    `whole`: UTF-8 is checked on the first SAMPLE_BYTES only (for `read_table`, whose parser checks
    the rest and raises NotUtf8Error, after which the encoding is decided on the whole content)."""
    encoding = _encoding(content, options.encoding, whole)
    sample = _sample_text(content, encoding)
    delimiter = options.delimiter or _delimiter(sample)
    decimal = options.decimal or _decimal(sample, delimiter)
    return Reading(encoding, delimiter, decimal)


def _encoding(content: bytes, requested: str | None, whole: bool = True) -> str:
    if requested:
        try:
            return codecs.lookup(requested).name
        except LookupError:
            raise InvalidDatasetError(
                f"encoding {requested!r} is not known; use e.g. utf-8, cp1252, latin-1 or utf-16"
            ) from None
    if content.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in content[:SAMPLE_BYTES]:
        raise InvalidDatasetError(
            "the file contains binary data (NUL bytes): send a CSV or TSV text file; "
            "if it is UTF-16 without a byte-order mark, set encoding=utf-16-le"
        )
    bad = _first_non_utf8(content) if whole else _first_non_utf8(content[:SAMPLE_BYTES], final=len(content) <= SAMPLE_BYTES)
    if bad is None:
        return "utf-8"
    from charset_normalizer import from_bytes

    window = content[:SAMPLE_BYTES] + b"\n" + content[max(0, bad - SAMPLE_BYTES // 2) : bad + SAMPLE_BYTES // 2]
    best = from_bytes(window, cp_isolation=WESTERN_ENCODINGS).best()
    name = codecs.lookup(best.encoding).name if best is not None else "cp1252"
    if name == "cp1252":
        try:  # five bytes are undefined in cp1252; latin-1 reads every byte
            codecs.decode(content, "cp1252")
        except UnicodeDecodeError:
            name = "latin-1"
    return name


def _first_non_utf8(content: bytes, final: bool = True) -> int | None:
    """Offset of the first byte that is not UTF-8, decoding in chunks so nothing file-sized is built
    (not `final`: a character cut at the end is not an error)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    for start in range(0, len(content), UTF8_CHUNK):
        try:
            decoder.decode(content[start : start + UTF8_CHUNK], final=final and start + UTF8_CHUNK >= len(content))
        except UnicodeDecodeError as exc:
            return start + exc.start
    return None


def _sample_text(content: bytes, encoding: str) -> str:
    raw = content[: SAMPLE_BYTES * 4] if encoding.startswith("utf-16") else content[:SAMPLE_BYTES]
    try:
        text = raw.decode(encoding, errors="ignore")
    except LookupError:
        raise InvalidDatasetError(f"encoding {encoding!r} is not known; use e.g. utf-8, cp1252, latin-1 or utf-16") from None
    if len(raw) < len(content):  # the last record of the sample is cut
        text = text[: text.rfind("\n") + 1] or text
    return text.lstrip("\ufeff")


def _records(sample: str, delimiter: str, records: int = SAMPLE_RECORDS) -> list[list[str]]:
    try:
        return [r for r in islice(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter), records) if r]
    except csv.Error:
        return []


def _delimiter(sample: str) -> str:
    """The separator among , ; tab | that splits the first records into the most columns, consistently."""
    best: tuple[float, int] | None = None
    chosen = None
    for delimiter in DELIMITERS:
        rows = _records(sample, delimiter)
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        consistent = sum(len(r) == width for r in rows) / len(rows)
        score = (round(consistent, 2), width)
        if best is None or score > best:
            best, chosen = score, delimiter
    if chosen is None:
        if not sample.strip():
            raise InvalidDatasetError("the file is empty; send a CSV with a header row and data rows")
        raise InvalidDatasetError(
            "could not find the separator: the header row is a single column with ',', ';', tab and '|'; "
            "the header must name at least two columns, or set delimiter"
        )
    return chosen


def _decimal(sample: str, delimiter: str) -> str:
    """',' when the first records write more numbers with a decimal comma than with a decimal point."""
    comma = dot = 0
    for row in _records(sample, delimiter)[1:]:
        for cell in row:
            cell = cell.strip()
            if _COMMA_DECIMAL_CELL.match(cell):
                comma += 1
            elif _DOT_DECIMAL_CELL.match(cell):
                dot += 1
    return "," if comma > dot else "."


def header(content: bytes, reading: Reading) -> tuple[list[str], bool]:
    """The header's names, stripped, and whether a trailing separator ends it (an unnamed last
    column); InvalidDatasetError for blank or repeated names."""
    rows = _records(_sample_text(content, reading.encoding), reading.delimiter)
    if not rows:
        raise InvalidDatasetError("the file is empty; send a CSV with a header row and data rows")
    names = [n.strip() for n in rows[0]]
    trailing = len(names) > 2 and not names[-1]
    if trailing:
        names.pop()
    if len(names) < 2:
        raise InvalidDatasetError("the header row must name at least two columns; check the separator or set delimiter")
    for position, name in enumerate(names, start=1):
        if not name:
            raise InvalidDatasetError(f"column {position} of the header has no name; name it or remove the column")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InvalidDatasetError(f"duplicate column names in the header: {', '.join(repeated)}; rename them")
    return names, trailing


@dataclass(frozen=True, slots=True)
class NumberColumn:
    """A column Arrow parsed as numbers (decimals with the reading's mark in the first records): NaN blank."""

    values: np.ndarray

    def blank(self) -> np.ndarray:
        return np.isnan(self.values)

    def take(self, rows: np.ndarray) -> NumberColumn:
        return NumberColumn(self.values[rows])

    def series(self) -> pd.Series:
        return pd.Series(self.values, dtype="float64")


@dataclass(frozen=True, slots=True)
class TextColumn:
    """Any other column, dictionary-encoded: `values` the distinct cells (stripped, NFC, never blank;
    some may be unused), `codes` each row's index into them, -1 where blank. Everything about a text
    column (numbers in a locale, dates, categories) is measured on the distinct values."""

    codes: np.ndarray
    values: pa.Array

    def blank(self) -> np.ndarray:
        return self.codes < 0

    def take(self, rows: np.ndarray) -> TextColumn:
        return TextColumn(self.codes[rows], self.values)

    def series(self) -> pd.Series:
        indices = pa.array(self.codes, mask=self.codes < 0, type=pa.int32())
        return pd.Series(self.values.take(indices).to_pandas(), dtype="str")


Column = NumberColumn | TextColumn


@dataclass(frozen=True, slots=True)
class Table:
    """A file as read: columns in file order, rows blank in every cell dropped; `records` the data
    record number (1-based) of each row when some were dropped, else None (row i is record i + 1)."""

    names: tuple[str, ...]
    columns: tuple[Column, ...]
    rows: int
    records: np.ndarray | None = None

    def column(self, name: str) -> Column:
        return self.columns[self.names.index(name)]

    def record_of(self, row: int) -> int:
        return int(self.records[row]) if self.records is not None else row + 1

    def to_frame(self) -> pd.DataFrame:
        """As pandas (for the trainer): float64 for number columns, text with NaN for the others; the
        index is the record number - 1."""
        index = pd.RangeIndex(self.rows) if self.records is None else pd.Index(self.records - 1)
        frame = pd.DataFrame({name: column.series() for name, column in zip(self.names, self.columns, strict=True)})
        frame.index = index
        return frame


_TRAILING = "\x00unnamed"
_PARSE = re.compile(r"column #(\d+)")


def read_table(content: bytes, reading: Reading) -> Table:
    """The whole file, parsed once by Arrow's CSV reader: columns whose first records
    hold decimals (with the reading's mark) as float64, every other column as dictionary-encoded text,
    stripped and NFC (on the distinct values only), blank cells blank, rows blank in every cell
    dropped. Integers are text here: a code such as 00123 keeps its zeros, and a column is numeric
    only when its whole text reads as numbers (see `NUMBER_PATTERNS`). InvalidDatasetError naming
    the record and physical line of a malformed record (longer or shorter than the header)."""
    names, trailing = header(content, reading)
    width = len(names) + (1 if trailing else 0)
    all_names = [*names, _TRAILING] if trailing else list(names)
    quoted = reading.encoding.startswith("utf-16") or content.find(b'"') >= 0
    if quoted and not reading.encoding.startswith("utf-16") and content.count(b'"') % 2:
        raise _malformed(content, reading, width, "a quote is never closed", counts=False)  # type: ignore[misc]
    sample = _records(_sample_text(content, reading.encoding), reading.delimiter, TYPE_SAMPLE_RECORDS)[1:]
    types = {name: _arrow_type(sample, position, reading.decimal or ".") for position, name in enumerate(all_names)}
    arrow: pa.Table | None = None
    while arrow is None:
        try:
            arrow = _arrow_read(content, reading, all_names, types, quoted)
        except pa.ArrowInvalid as exc:
            found = _PARSE.search(str(exc))
            if "conversion error" in str(exc) and found and pa.types.is_floating(types[all_names[int(found.group(1))]]):
                types[all_names[int(found.group(1))]] = _TEXT  # a later cell is not a number: measure it as text
                continue
            days = [name for name, kind in types.items() if kind == _DAYS]
            if days and ("conversion error" in str(exc) or "out of range" in str(exc)):
                culprit = all_names[int(found.group(1))] if found and "conversion error" in str(exc) else None
                for name in [culprit] if culprit in days else days:  # a later cell is not an ISO day: measure it as text
                    types[name] = _CATEGORIES
                continue
            if "invalid UTF8" in str(exc) and reading.encoding in ("utf-8", "utf-8-sig"):
                raise _not_utf8(content, reading) from None
            if "Expected" in str(exc) and "columns" in str(exc):
                problem = _malformed(content, reading, width, "records of another length than the header", strict=False, shortest=len(names))
                if problem is not None:
                    raise problem from None
                return table_from_frame(read_text_frame(content, reading))  # only blank cells past the header
            raise InvalidDatasetError("the file could not be read as CSV; check the separator and the quotes") from None
        except UnicodeDecodeError as exc:
            raise InvalidDatasetError(
                f"the file is not {reading.encoding} text (a byte at offset {exc.start} of a block cannot be read); set encoding"
            ) from None
    try:  # a value of a binary dictionary that is not UTF-8 fails its cast to text here
        if trailing:
            if not _column(arrow.column(_TRAILING)).blank().all():
                raise InvalidDatasetError(f"column {width} has values but no name in the header; name it")
            arrow = arrow.drop_columns([_TRAILING])
        rows = arrow.num_rows
        columns = []
        for name in names:  # each Arrow column is let go once converted: the peak holds one column twice, not the table
            columns.append(_column(arrow.column(name)))
            arrow = arrow.drop_columns([name])
        del arrow
    except pa.ArrowInvalid:
        if reading.encoding not in ("utf-8", "utf-8-sig") or _first_non_utf8(content) is None:
            raise
        raise _not_utf8(content, reading) from None
    _release_freed_memory()
    return _without_blank_rows(tuple(names), columns, rows)


def _release_freed_memory() -> None:
    """Hand the parser's freed buffers back to the system (glibc keeps them otherwise, and what comes
    next, the store's copy of the file, would add to them instead of reusing them: with it an upload
    to SQLite peaked at 5.7x the file, without it under 4x). A no-op off glibc."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


class NotUtf8Error(InvalidDatasetError):
    """The parser met a byte that is not UTF-8 past the first SAMPLE_BYTES."""


def _not_utf8(content: bytes, reading: Reading) -> InvalidDatasetError:
    offset = _first_non_utf8(content) or 0
    message = f"the file is not {reading.encoding} text (a byte at offset {offset} of a block cannot be read); set encoding"
    return NotUtf8Error(message) if reading.encoding in ("utf-8", "utf-8-sig") else InvalidDatasetError(message)


_TEXT = pa.string()
_DAYS = pa.date32()
"""ISO days (2024-07-01) are parsed by the reader, strictly (2024-7-1 or 2024-02-30 send the column
back to text), for a fraction of the cost of encoding their text; `_column` turns them back into
text values (the same text: the parser reads no other form, spaces around it aside)."""
_CATEGORIES = pa.dictionary(pa.int32(), pa.binary())
"""Binary, not text: the reader checks UTF-8 on every cell of a text column, and the distinct values
of a dictionary are checked once instead, when they are cast to text (`_column`)."""


def _arrow_type(sample: list[list[str]], position: int, decimal: str) -> pa.DataType:
    """float64 when the first records write decimals in this column (and nothing but plain numbers);
    else text, dictionary-encoded by the reader's threads when the first records repeat values,
    plain when they are (nearly) all different (an id: encoded once, after, because merging the
    threads' per-block dictionaries of an id column costs more than encoding it once); ISO days
    as days (`_DAYS`)."""
    cells = [cell for cell in (row[position].strip() for row in sample if position < len(row)) if cell]
    head = cells[:SAMPLE_RECORDS]
    pattern = _DECIMAL_CELL[decimal]
    if head and any(decimal in cell for cell in head) and all(pattern.match(cell) for cell in head):
        return pa.float64()
    if head and all(_ISO_DAY.match(cell) for cell in head):
        return _DAYS
    return _TEXT if len(set(cells)) >= 0.95 * len(cells) else _CATEGORIES


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

_DECIMAL_CELL = {
    ".": re.compile(r"^[+-]?(0|[1-9]\d*)(\.\d+)?$"),
    ",": re.compile(r"^[+-]?(0|[1-9]\d*)(,\d+)?$"),
}


SPLIT_BYTES = 4 << 20
"""A UTF-8 file larger than this and without quotes is parsed in two halves at once (`_arrow_read`)."""
SINGLE_BYTE_ENCODINGS = frozenset({"cp1252", "iso8859-1", "iso8859-15"})
"""The detected Western encodings, by their `codecs.lookup` names: cut like UTF-8 too."""


def _arrow_read(content: bytes, reading: Reading, names: list[str], types: dict[str, pa.DataType], quoted: bool) -> pa.Table:
    """`quoted`: whether the file has quotes at all (else no cell can hold a line break, and Arrow
    need neither track quotes across blocks nor look for them in every cell). Each parse runs on one
    thread: on this service's shared two cores Arrow's reader threads cost more CPU and memory than
    they saved (a 22 MB upload: 0.44 s CPU and 77 MB peak with them, 0.37 s and 57 MB without, in
    the same bench run). Without quotes every newline ends a record, so a large UTF-8 file is cut
    at the first newline past its middle and the second half parsed on a second thread while this
    one parses the first: the same rows in the same order, about the same CPU, half the parse's
    wall time when a core is free. An error of the first half is raised before one of the second,
    as one parse would (the caller's retries and messages look at the whole file, not at where the
    error was). The Western single-byte encodings (cp1252, latin-1, ISO 8859-15: a newline byte is a
    newline there too) are cut the same way: Arrow transcodes them with Python's codecs, and the
    second thread's transcoded blocks stay in its malloc arena (a 22 MB cp1252 upload: 51 -> 64 MB
    at its peak, 2.3x -> 2.8x the file) for 13% less wall time (0.172 -> 0.149 s). UTF-16 is
    parsed whole."""
    buffer = pa.py_buffer(content)
    middle = content.find(b"\n", len(content) // 2) + 1
    splittable = reading.encoding in ("utf-8", "utf-8-sig") or reading.encoding in SINGLE_BYTE_ENCODINGS
    if quoted or not splittable or len(content) <= SPLIT_BYTES or not 0 < middle < len(content):
        return _arrow_parse(buffer, reading, names, types, quoted, skip_header=True)
    with ThreadPoolExecutor(max_workers=1) as second_half:
        rest = second_half.submit(_arrow_parse, buffer.slice(middle), reading, names, types, quoted, False)
        first = _arrow_parse(buffer.slice(0, middle), reading, names, types, quoted, skip_header=True)
        return pa.concat_tables([first, rest.result()])


def _arrow_parse(
    buffer: pa.Buffer, reading: Reading, names: list[str], types: dict[str, pa.DataType], quoted: bool, skip_header: bool
) -> pa.Table:
    encoding = "utf8" if reading.encoding in ("utf-8", "utf-8-sig") else reading.encoding
    return pa_csv.read_csv(
        buffer,
        read_options=pa_csv.ReadOptions(encoding=encoding, skip_rows=1 if skip_header else 0, column_names=names, use_threads=False),
        parse_options=pa_csv.ParseOptions(delimiter=reading.delimiter, quote_char='"' if quoted else False, newlines_in_values=quoted),
        convert_options=pa_csv.ConvertOptions(
            column_types=types,
            null_values=[""],  # for numbers; text keeps "" (cheaper), made blank with the other blank values
            strings_can_be_null=False,
            decimal_point=reading.decimal or ".",
        ),
    )


def _column(chunked: pa.ChunkedArray) -> Column:
    if pa.types.is_floating(chunked.type):
        return NumberColumn(chunked.to_numpy())
    if pa.types.is_date32(chunked.type):
        days, distinct = pd.factorize(chunked.cast(pa.int32()).to_numpy())  # in order of first appearance; blank -1
        values = pa.array(np.asarray(distinct, dtype=np.int32)).cast(pa.date32()).cast(pa.string())
        return TextColumn(days.astype(np.int32), values)
    # one copy: the blocks' dictionaries are unified (in order of first appearance) as they are concatenated
    array = chunked.combine_chunks() if chunked.num_chunks != 1 else chunked.chunk(0)
    if not pa.types.is_dictionary(array.type):
        array = array.cast(pa.string())
        short = _short_codes(array)
        if short is not None:
            return text_column(*short)
        array = pc.dictionary_encode(array)
    return text_column(array.dictionary.cast(pa.string()), pc.fill_null(array.indices, -1).to_numpy())


def _short_codes(array: pa.StringArray) -> tuple[pa.Array, np.ndarray] | None:
    """Distinct values and codes of a column whose cells all have the same length of at most 8 bytes
    (customer codes such as C0001234, 8-digit ids): each cell is read as one 64-bit integer and the
    integers sorted, exact and several times faster than hashing the strings (an id column of 446,000
    rows: ~15 ms sorted by id, ~90 ms shuffled, instead of ~150 ms). None for any other column."""
    rows = len(array)
    if rows < 1000 or array.null_count:
        return None
    _, offsets_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32)[array.offset : array.offset + rows + 1]
    width = int(offsets[1] - offsets[0])
    if not 1 <= width <= 8 or int(offsets[-1] - offsets[0]) != width * rows or not bool((np.diff(offsets) == width).all()):
        return None
    cells = np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0] : offsets[-1]].reshape(rows, width)
    if width < 8:
        padded = np.zeros((rows, 8), dtype=np.uint8)
        padded[:, :width] = cells
        cells = padded
    keys = cells.view(">u8").ravel().astype(np.uint64)  # big-endian: an export sorted by id is sorted here too, and sorts fast
    if bool((keys[1:] > keys[:-1]).all()):  # sorted and so all different: the column is its own dictionary
        return array, np.arange(rows, dtype=np.int32)
    perm = np.argsort(keys)
    ordered = keys[perm]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    group = np.empty(rows, dtype=np.int32)  # each row's value, numbered in sorted order
    group[perm] = np.repeat(np.arange(len(starts), dtype=np.int32), np.diff(np.append(starts, rows)))
    first = np.minimum.reduceat(perm, starts)  # the row each value first appears on
    if len(starts) == rows:
        order = np.empty(rows, dtype=np.int64)
        order[first] = np.arange(rows)
    else:
        order = np.argsort(first)
    rank = np.empty(len(starts), dtype=np.int32)  # sorted number -> number in order of first appearance
    rank[order] = np.arange(len(starts), dtype=np.int32)
    text = np.ascontiguousarray(ordered[starts][order].astype(">u8").view(np.uint8).reshape(-1, 8)[:, :width])
    values = pa.StringArray.from_buffers(
        len(text), pa.py_buffer(np.arange(0, (len(text) + 1) * width, width, dtype=np.int32)), pa.py_buffer(text.tobytes())
    )
    return values, rank[group]


def text_column(values: pa.Array, codes: np.ndarray) -> TextColumn:
    """Codes into distinct values, the values stripped and NFC; values that become equal (' a' and
    'a', NFC and NFD) share one code, blank ones none."""
    if not len(values):
        return TextColumn(codes.astype(np.int32, copy=False), values.cast(pa.string()))
    if _plain_ascii(values):
        return TextColumn(codes.astype(np.int32, copy=False), values)
    cleaned = pc.utf8_trim_whitespace(values)
    if not every(pc.string_is_ascii(cleaned)):
        cleaned = pa.array([None if v is None else nfc(v) for v in cleaned.to_pylist()], pa.string())
    blank = pc.equal(cleaned, "")
    if not pc.any(blank).as_py() and every(pc.equal(cleaned, values)):
        return TextColumn(codes.astype(np.int32, copy=False), values)
    encoded = pc.dictionary_encode(pc.if_else(blank, pa.scalar(None, pa.string()), cleaned))
    remap = pc.fill_null(encoded.indices, -1).to_numpy().astype(np.int32)
    mapped = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1).astype(np.int32)
    return TextColumn(mapped, encoded.dictionary)


def _plain_ascii(values: pa.Array) -> bool:
    """Whether text values are already clean, read from the buffers in a few vectorised passes:
    none empty or null, every byte ASCII, none starting or ending with a space or control
    character (so nothing to strip, to normalise or to blank)."""
    if not pa.types.is_string(values.type) or values.null_count:
        return False
    _, offsets_buffer, data_buffer = values.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32)[values.offset : values.offset + len(values) + 1]
    if not bool((np.diff(offsets) > 0).all()):
        return False
    data = np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0] : offsets[-1]]
    starts, ends = offsets[:-1] - offsets[0], offsets[1:] - offsets[0] - 1
    return bool(data.max() < 0x80 and data[starts].min() > 0x20 and data[ends].min() > 0x20)


def every(flags: pa.Array) -> bool:
    """True when every flag is true (an empty array too); a null flag counts as false."""
    return bool(pc.all(pc.fill_null(flags, False), min_count=0).as_py())


def _without_blank_rows(names: tuple[str, ...], columns: list[Column], rows: int) -> Table:
    blank = np.ones(rows, dtype=bool)
    for column in columns:
        blank &= column.blank()
        if not blank.any():
            return Table(names, tuple(columns), rows)
    kept = np.flatnonzero(~blank)
    return Table(names, tuple(c.take(kept) for c in columns), len(kept), kept + 1)


def table_from_frame(frame: pd.DataFrame) -> Table:
    """A text frame read by pandas (the customer import, or a file with trailing separators on its
    data lines only) as a Table, so its facts are measured by the same code."""
    columns: list[Column] = []
    for name in frame.columns:
        array = pa.array(frame[name].astype("str").to_numpy(dtype=object, na_value=None), pa.string())
        encoded = pc.dictionary_encode(array)
        columns.append(text_column(encoded.dictionary, pc.fill_null(encoded.indices, -1).to_numpy()))
    records = frame.index.to_numpy(dtype=np.int64) + 1
    return Table(tuple(frame.columns), tuple(columns), len(frame), records)


def read_frame(content: bytes, reading: Reading) -> pd.DataFrame:
    """`read_table` as pandas: what the trainer reads, exactly what was profiled at upload."""
    return read_table(content, reading).to_frame()


def read_text_frame(content: bytes, reading: Reading, skip_long: bool = False) -> pd.DataFrame:
    """The whole file by pandas, every column as stripped NFC text, blank cells NaN, rows blank in
    every cell dropped (the index stays the record number - 1). `skip_long`: records longer than
    the header are skipped, for an import that reports them row by row; else InvalidDatasetError
    naming the record and physical line of a malformed record."""
    names, trailing = header(content, reading)
    width = len(names) + (1 if trailing else 0)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.BytesIO(content),
                sep=reading.delimiter,
                encoding=reading.encoding,
                header=0,
                index_col=False,  # never take the first column for an index when records are longer than the header
                on_bad_lines="skip" if skip_long else "error",
                dtype="str",
                keep_default_na=False,
                na_values=[""],
            )
        if not skip_long and any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
            problem = _malformed(content, reading, width, "records longer than the header", strict=False)
            if problem is not None:
                raise problem
    except pd.errors.ParserError as exc:
        raise _malformed(content, reading, width, str(exc)) from None  # type: ignore[misc]
    except UnicodeDecodeError as exc:
        raise InvalidDatasetError(
            f"the file is not {reading.encoding} text (a byte at offset {exc.start} of a block cannot be read); set encoding"
        ) from None
    except (ValueError, pd.errors.EmptyDataError) as exc:
        raise InvalidDatasetError(f"the file could not be read as CSV: {exc}") from None
    if len(frame.columns) != width:
        raise InvalidDatasetError("the header and the records disagree on the number of columns; check the separator")
    if trailing:
        if frame.iloc[:, -1].notna().any():
            raise InvalidDatasetError(f"column {width} has values but no name in the header; name it")
        frame = frame.iloc[:, :-1]
    frame.columns = names
    for name in names:
        text = frame[name].astype("str").str.strip()
        blank = text == ""
        frame[name] = _nfc(text.where(~blank, np.nan) if bool(blank.any()) else text)
    blank = frame.isna().all(axis=1)
    if blank.any():
        frame = frame.loc[~blank]  # the index stays the record number - 1
    return frame


def _nfc(text: pd.Series) -> pd.Series:
    """NFC on a text column: free on ASCII, else one check per distinct value and a replace of the
    few values that change (NFD input is rare; most accented exports are NFC already)."""
    if bool(text.str.isascii().fillna(True).all()):
        return text
    changed = {}
    for value in text.dropna().unique():
        if not unicodedata.is_normalized("NFC", value):
            changed[value] = unicodedata.normalize("NFC", value)
    return text.replace(changed) if changed else text


def _malformed(
    content: bytes, reading: Reading, width: int, reason: str, strict: bool = True, shortest: int | None = None, counts: bool = True
) -> InvalidDatasetError | None:
    """Find the record the parser choked on with the csv module (only on this error path): longer
    than `width` fields with something past them, or shorter than `shortest` (default `width`) with
    something in it, or a quote never closed (only that when not `counts`: an odd number of quotes).
    Not `strict`: None when there is no such record (trailing separators, records blank in every cell)."""
    text = content.decode(reading.encoding, errors="replace").lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=reading.delimiter)
    start = 1
    record = -1  # the header is record 0
    try:
        for row in reader:
            if row:
                record += 1
                if counts and record > 0 and len(row) > width and any(cell.strip() for cell in row[width:]):
                    return InvalidDatasetError(
                        f"record {record} (starting on line {start}) has {len(row)} fields; the header has {width}. "
                        "Quote fields that contain the separator, or set delimiter"
                    )
                if counts and record > 0 and len(row) < (shortest or width) and any(cell.strip() for cell in row):
                    return InvalidDatasetError(
                        f"record {record} (starting on line {start}) has {len(row)} field{'s' if len(row) != 1 else ''}; "
                        f"the header has {width}. Fill in the missing fields (empty ones too: one separator each), "
                        "or quote fields that contain a line break"
                    )
            start = reader.line_num + 1
    except csv.Error:
        return InvalidDatasetError(
            f"record {record + 1} (starting on line {start}) has a quote that is never closed; close it or remove it"
        )
    if not strict:
        return None
    return InvalidDatasetError(f"the file could not be read as CSV ({reason.strip().splitlines()[-1]}); check the separator and the quotes")


def scan_records(content: bytes, reading: Reading) -> tuple[list[int], list[tuple[int, int, int]], set[int]]:
    """A csv-module pass for the row-by-row customer import: the physical line each data record
    starts on (index: record number - 1), the records whose field count differs from the header's
    as (record number, line, fields), and which of those are longer (pandas skips them when asked)."""
    names, trailing = header(content, reading)
    width = len(names) + (1 if trailing else 0)
    text = content.decode(reading.encoding, errors="replace").lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=reading.delimiter)
    starts: list[int] = []
    bad: list[tuple[int, int, int]] = []
    longer: set[int] = set()
    start, record = 1, -1
    try:
        for row in reader:
            if row:
                record += 1
                if record > 0:
                    starts.append(start)
                    if len(row) > width and any(cell.strip() for cell in row[width:]):
                        bad.append((record, start, len(row)))
                        longer.add(record)
                    elif len(row) < width and any(cell.strip() for cell in row):
                        bad.append((record, start, len(row)))
            start = reader.line_num + 1
    except csv.Error:
        pass
    return starts, bad, longer


def text_values(column: pd.Series) -> pd.Series:
    """Cells as text (numbers as written back: 1, 0.5), NaN kept."""
    if pd.api.types.is_integer_dtype(column.dtype):
        return column.astype("str")
    if pd.api.types.is_float_dtype(column.dtype):
        whole = column.dropna()
        if len(whole) and bool((whole == np.round(whole)).all()) and whole.abs().max() < 2**53:
            return column.map(lambda v: v if math.isnan(v) else str(int(v))).astype("str")
        return column.astype("str").where(column.notna(), np.nan)
    return column


def number_column(column: pd.Series, number_format: NumberFormat | None) -> pd.Series:
    """A column as float64 under its number format (NaN where a cell is not a number of it)."""
    if pd.api.types.is_numeric_dtype(column.dtype):
        return column.astype("float64")
    text = column
    if number_format is NumberFormat.DOT_DECIMAL:
        text = text.str.replace(",", "", regex=False)
    elif number_format is NumberFormat.COMMA_DECIMAL:
        text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce").astype("float64")


def matches(column: pd.Series, number_format: NumberFormat) -> pd.Series:
    return column.str.fullmatch(NUMBER_PATTERNS[number_format]).fillna(False).astype(bool)


def arrow_matches(values: pa.Array, number_format: NumberFormat) -> pa.Array:
    """Which text values are numbers written in `number_format` (the whole value)."""
    return pc.fill_null(pc.match_substring_regex(values, f"^(?:{NUMBER_PATTERNS[number_format]})$"), False)


def arrow_numbers(values: pa.Array, number_format: NumberFormat) -> np.ndarray:
    """Text values as float64 under `number_format` (NaN where a value is not one of its numbers)."""
    text = values
    if number_format.thousands:
        text = pc.replace_substring(text, number_format.thousands, "")
    if number_format.decimal != ".":
        text = pc.replace_substring(text, number_format.decimal, ".")
    ok = arrow_matches(values, number_format)
    numbers = pc.cast(pc.if_else(ok, text, pa.scalar("nan")), pa.float64())
    return numbers.to_numpy(zero_copy_only=False)


ISO_FORMATS = frozenset({"%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"})


def iso_dates(column: pd.Series) -> pd.Series | None:
    """Every cell of a text column as an ISO date or date-time (Arrow's strict C++ parser), NaT where
    blank; None when some cell is not one."""
    try:
        moments = column.astype("timestamp[us][pyarrow]")
    except (ValueError, TypeError, NotImplementedError, ArithmeticError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        del exc
        return None
    return moments.astype("datetime64[us]")


def date_column(column: pd.Series, date_format: str) -> pd.Series:
    """A column as datetimes under its format (ISO forms all read, as /predict reads them), NaT where not a date."""
    if date_format in ISO_FORMATS:
        moments = iso_dates(column)
        if moments is not None:
            return moments
        return pd.to_datetime(column, format="ISO8601", errors="coerce")
    return pd.to_datetime(column, format=date_format, errors="coerce")
