"""The latest-risk list as a CSV for a CRM: its columns and the rule that keeps cells inert.

A spreadsheet runs a cell starting with '=', '+', '-', '@' (and tab or carriage return, which some
strip before looking) as a formula: such a cell is written with a leading apostrophe, the OWASP
advice for CSV injection. Negative numbers are the exception: the probability column is numeric and
never negative, and the contribution numbers inside the reasons column are text, so they are
neutralised like any other text cell starting with '-'.
"""

from __future__ import annotations

from typing import Any

from churn.predictions import Prediction
from churn.timestamps import utc_text

RISK_CSV_COLUMNS = ("customer_id", "churn_probability", "band", "model", "scored_at", "reasons_up", "reasons_down")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(cell: str) -> str:
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def risk_row(prediction: Prediction) -> list[str]:
    """One customer's latest risk as CSV cells, every text cell neutralised."""
    reasons = prediction.reasons
    cells: list[Any] = [
        prediction.customer_id or "",
        f"{prediction.churn_probability:.6f}",
        prediction.band.value,
        str(prediction.model),
        utc_text(prediction.created_at),
        "; ".join(str(r) for r in reasons.raising),
        "; ".join(str(r) for r in reasons.lowering),
    ]
    return [neutralised(str(cell)) for cell in cells]
