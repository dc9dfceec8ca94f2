"""Churn-risk bands and probability ranges: the edges are defined here and nowhere else."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from churn.errors import InvalidBandError


@dataclass(frozen=True, slots=True)
class ProbabilityRange:
    """[minimum, maximum) on churn probability; closed at the top when maximum is 1."""

    minimum: float
    maximum: float

    def __post_init__(self) -> None:
        for value in (self.minimum, self.maximum):
            if not isinstance(value, (int, float)) or math.isnan(value) or not 0.0 <= value <= 1.0:
                raise InvalidBandError("min_probability and max_probability must be numbers between 0 and 1")
        if self.minimum >= self.maximum:
            raise InvalidBandError("min_probability must be lower than max_probability")

    def contains(self, probability: float) -> bool:
        if self.maximum >= 1.0:
            return self.minimum <= probability <= 1.0
        return self.minimum <= probability < self.maximum


class Band(StrEnum):
    """The four churn-risk bands, in percent. Half-open intervals; the last one includes 100 %."""

    LOW = "0-25"
    MEDIUM = "25-50"
    HIGH = "50-75"
    VERY_HIGH = "75-100"

    @property
    def range(self) -> ProbabilityRange:
        return _BAND_RANGES[self]

    @classmethod
    def of(cls, probability: float) -> "Band":
        """On the scoring hot path: plain comparisons against the band edges (EDGES, from the labels)."""
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"probability {probability} is outside [0, 1]")
        if probability < _MIDDLE:
            return cls.LOW if probability < _LOWER else cls.MEDIUM
        return cls.HIGH if probability < _UPPER else cls.VERY_HIGH

    @classmethod
    def covering(cls, probabilities: ProbabilityRange) -> tuple["Band", ...] | None:
        """The bands whose union is exactly `probabilities` (lowest first), or None when the range does
        not start and end on band edges. Lets a store total such a range from per-band counts."""
        inside = tuple(b for b in cls if probabilities.minimum <= b.range.minimum and b.range.maximum <= probabilities.maximum)
        if not inside or inside[0].range.minimum != probabilities.minimum or inside[-1].range.maximum != probabilities.maximum:
            return None
        return inside

    @classmethod
    def parse(cls, label: str) -> "Band":
        try:
            return cls(label.strip())
        except ValueError:
            allowed = ", ".join(b.value for b in cls)
            raise InvalidBandError(f"unknown band {label!r}; allowed values: {allowed}", allowed=[b.value for b in cls]) from None


def requested_range(band: str | None, min_probability: float | None, max_probability: float | None) -> tuple[str, ProbabilityRange]:
    """The label and interval asked for by `band` or by `min_probability`/`max_probability` (each
    optional, the whole of [0, 1] without any); InvalidBandError for both, or a bad value."""
    if band is not None and (min_probability is not None or max_probability is not None):
        raise InvalidBandError("give either band or min_probability/max_probability, not both")
    if band is not None:
        return Band.parse(band).value, Band.parse(band).range
    probabilities = ProbabilityRange(0.0 if min_probability is None else min_probability, 1.0 if max_probability is None else max_probability)
    return f"{probabilities.minimum:g}-{probabilities.maximum:g}", probabilities


_BAND_RANGES = {band: ProbabilityRange(int(band.value.split("-")[0]) / 100, int(band.value.split("-")[1]) / 100) for band in Band}
EDGES: tuple[float, ...] = (0.0, *(_BAND_RANGES[band].maximum for band in Band))
"""0, the upper edge of each band, 1: where the bands meet, read off their labels."""
_LOWER, _MIDDLE, _UPPER = EDGES[1:4]
