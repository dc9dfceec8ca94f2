"""Pages of a listing: the request (limit, offset or cursor) and the page itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Sequence, TypeVar

from churn.errors import InvalidPageError
from churn.predictions import PredictionCursor

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class PageRequest:
    """limit 1..1000, offset >= 0, or an opaque `after` cursor from a previous page."""

    limit: int = DEFAULT_PAGE_SIZE
    offset: int = 0
    after: "PredictionCursor | None" = None

    def __post_init__(self) -> None:
        if isinstance(self.limit, bool) or not isinstance(self.limit, int) or not 1 <= self.limit <= MAX_PAGE_SIZE:
            raise InvalidPageError(f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}")
        if isinstance(self.offset, bool) or not isinstance(self.offset, int) or self.offset < 0:
            raise InvalidPageError("offset must be a whole number from 0")
        if self.after is not None and self.offset:
            raise InvalidPageError("use either offset or after, not both")



T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    limit: int
    offset: int
    next: str | None = None
