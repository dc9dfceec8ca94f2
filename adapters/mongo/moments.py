"""Moments in MongoDB documents: a BSON date, plus the microseconds a BSON date cannot hold.

A moment `t` is stored as two keys: `<field>`, `t` cut to its millisecond as a BSON date (UTC), and
`<field>_us`, the microseconds past that millisecond (0-999), so it reads back exact and orders to the
microsecond: sorts and indexes go by (`<field>`, `<field>_us`). No moment: both keys null.

Documents stored before this hold the moment as UTC text instead (churn.timestamps.utc_text, or with
a `Z` suffix) and no `_us` key. They read the same, and every filter built here matches both forms.
BSON orders every string before every date, so sorted by time the text moments (all written by an
earlier version, before any date) come before the dates: in time order, unless an old and a new
version wrote at the same time during an upgrade.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping

from churn.timestamps import utc_text

US = "_us"


def us_key(field: str) -> str:
    return field + US


def split(moment: datetime | None) -> tuple[datetime | None, int | None]:
    """The BSON date (UTC, cut to the millisecond) and the microseconds past it."""
    if moment is None:
        return None, None
    utc = (moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    micros = utc.microsecond % 1000
    return utc - timedelta(microseconds=micros), micros


def stored(field: str, moment: datetime | None) -> dict[str, Any]:
    """The two keys of `moment` under `field`, ready for a document or a `$set`."""
    date, micros = split(moment)
    return {field: date, us_key(field): micros}


def from_text(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def moment(document: Mapping[str, Any], field: str) -> datetime | None:
    """The exact, timezone-aware UTC moment under `field`: a date and its `_us`, or older text."""
    value = document.get(field)
    if value is None:
        return None
    if isinstance(value, str):
        return from_text(value)
    utc = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)  # clients without tz_aware
    return utc.astimezone(timezone.utc) + timedelta(microseconds=document.get(us_key(field)) or 0)


def dated(document: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """A document of the shared codec (adapters.documents, moments as utc_text) as MongoDB stores it."""
    out = dict(document)
    for field in fields:
        value = out.get(field)
        out.update(stored(field, from_text(value) if isinstance(value, str) else value))
    return out


def undated(document: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """A stored document (dates or older text) in the shared codec's form: each moment as utc_text."""
    names = list(fields)
    out = {key: value for key, value in document.items() if key not in {us_key(f) for f in names}}
    for field in names:
        if field in document:
            value = moment(document, field)
            out[field] = None if value is None else utc_text(value)
    return out


def projected(*fields: str) -> dict[str, int]:
    """A projection that keeps each moment whole (both of its keys)."""
    return {key: 1 for field in fields for key in (field, us_key(field))}


def order(field: str, direction: int) -> list[tuple[str, int]]:
    """The sort (and index) keys of a moment, in time order."""
    return [(field, direction), (us_key(field), direction)]


def before(field: str, moment: datetime) -> dict[str, Any]:
    """Filter: the moment under `field` is strictly earlier than `moment` (dates or older text)."""
    date, micros = split(moment)
    return {"$or": [{field: {"$lt": date}}, {field: date, us_key(field): {"$lt": micros}}, {field: {"$lt": utc_text(moment)}}]}


def since(field: str, moment: datetime) -> dict[str, Any]:
    """Filter: the moment under `field` is at or after `moment` (dates or older text)."""
    date, micros = split(moment)
    return {"$or": [{field: {"$gt": date}}, {field: date, us_key(field): {"$gte": micros}}, {field: {"$gte": utc_text(moment)}}]}


def equal(field: str, moment: datetime | None) -> dict[str, Any]:
    """Filter: the moment under `field` is `moment` exactly, as a date or as either older text form."""
    if moment is None:
        return {field: None}
    date, micros = split(moment)
    text = utc_text(moment)
    return {"$or": [{field: date, us_key(field): micros}, {field: {"$in": [text, text.replace("+00:00", "Z")]}}]}
