"""The domain's messages (written in English in churn/) as a Portuguese reader of the console reads them."""

from __future__ import annotations

from typing import Callable


def domain_translator(lang: str) -> Callable[[str | None], str]:
    def said(text: str | None) -> str:
        return text or ""

    return said
