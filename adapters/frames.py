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
import io
import math
import re
import unicodedata
import warnings
from itertools import islice

import numpy as np
import pandas as pd

from churn.columns import DELIMITERS, NumberFormat, Reading, ReadOptions
from churn.errors import InvalidDatasetError

SAMPLE_BYTES = 64 * 1024
SAMPLE_RECORDS = 50
UTF8_CHUNK = 1 << 20
WESTERN_ENCODINGS = ["cp1252", "iso8859_15", "latin_1"]

_COMMA_DECIMAL_CELL = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+),\d+$")
_DOT_DECIMAL_CELL = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)\.\d+$")

DATE_LIKE = r"^\s*\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}"
"""What a cell must start with before the date formats are tried on its column."""

NUMBER_PATTERNS = {
    NumberFormat.PLAIN: r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?",
    NumberFormat.DOT_DECIMAL: r"[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?",
    NumberFormat.COMMA_DECIMAL: r"[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?",
}


def decide_reading(content: bytes, options: ReadOptions) -> Reading:
    """Encoding, separator and decimal mark: the given ones, else detected from the content."""
    encoding = _encoding(content, options.encoding)
    sample = _sample_text(content, encoding)
    delimiter = options.delimiter or _delimiter(sample)
    decimal = options.decimal or _decimal(sample, delimiter)
    return Reading(encoding, delimiter, decimal)


def _encoding(content: bytes, requested: str | None) -> str:
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
    bad = _first_non_utf8(content)
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


def _first_non_utf8(content: bytes) -> int | None:
    """Offset of the first byte that is not UTF-8, decoding in chunks so nothing file-sized is built."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    for start in range(0, len(content), UTF8_CHUNK):
        try:
            decoder.decode(content[start : start + UTF8_CHUNK], final=start + UTF8_CHUNK >= len(content))
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


def _records(sample: str, delimiter: str) -> list[list[str]]:
    try:
        return [r for r in islice(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter), SAMPLE_RECORDS) if r]
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


def read_frame(content: bytes, reading: Reading, skip_long: bool = False, as_text: bool = False) -> pd.DataFrame:
    """The whole file: numbers as pandas infers them (with the reading's decimal mark), text as
    stripped NFC strings, blank cells NaN, rows blank in every cell dropped. InvalidDatasetError naming
    the record and physical line of a malformed record (`skip_long`: records longer than the header
    are skipped instead, for an import that reports them row by row; `as_text`: every column as text,
    so that an id such as 00123 keeps its zeros)."""
    names, trailing = header(content, reading)
    width = len(names) + (1 if trailing else 0)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.BytesIO(content),
                sep=reading.delimiter,
                encoding=reading.encoding,
                decimal=reading.decimal or ".",
                header=0,
                index_col=False,  # never take the first column for an index when records are longer than the header
                on_bad_lines="skip" if skip_long else "error",
                dtype="str" if as_text else None,
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
        column = frame[name]
        if column.dtype == bool:
            frame[name] = column.map({True: "True", False: "False"}).astype("str")
        elif not pd.api.types.is_numeric_dtype(column.dtype):
            text = column.astype("str").str.strip()
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


def _malformed(content: bytes, reading: Reading, width: int, reason: str, strict: bool = True) -> InvalidDatasetError | None:
    """Find the record pandas choked on with the csv module (only on this error path). Not `strict`:
    None when every longer record only has blank cells past the header (trailing separators)."""
    text = content.decode(reading.encoding, errors="replace").lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=reading.delimiter)
    start = 1
    record = -1  # the header is record 0
    try:
        for row in reader:
            if row:
                record += 1
                if record > 0 and len(row) > width and any(cell.strip() for cell in row[width:]):
                    return InvalidDatasetError(
                        f"record {record} (starting on line {start}) has {len(row)} fields; the header has {width}. "
                        "Quote fields that contain the separator, or set delimiter"
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
