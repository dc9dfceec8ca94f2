"""The `next` / `after` token of pages ordered by a stable key but paged by position (customers, a
customer's history): an opaque token for the offset of the following page."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace
from typing import TypeVar

from churn.errors import InvalidPageError
from churn.paging import Page

T = TypeVar("T")

_KIND = "offset"


@dataclass(frozen=True, slots=True)
class OffsetCursor:
    offset: int

    def encode(self) -> str:
        raw = json.dumps([_KIND, self.offset]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> "OffsetCursor":
        """InvalidPageError for anything that is not a `next` token of these pages."""
        try:
            kind, offset = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            if kind != _KIND or isinstance(offset, bool) or not isinstance(offset, int) or offset < 1:
                raise ValueError(token)
        except Exception:
            raise InvalidPageError("invalid 'after' cursor: pass the 'next' value of a previous page unchanged") from None
        return cls(offset)

    @staticmethod
    def with_next(page: Page[T]) -> Page[T]:
        """`page` with `next` set to the following page's token when more items remain."""
        following = page.offset + len(page.items)
        if page.items and following < page.total:
            return replace(page, next=OffsetCursor(following).encode())
        return page
