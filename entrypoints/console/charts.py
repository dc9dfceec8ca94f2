"""Chart geometry for the SVG macros (templates/charts.html): the numbers are worked out here, the
markup is drawn there, so every chart shares one look and needs no script or inline style."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from churn.bands import EDGES, Band

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 40


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float
    text: str
    x: float
    y: float
    width: float
    height: float
    css: str


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    text: str


def nice_max(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^n at or above `value` (at least 1)."""
    if value <= 1:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def bars(items: Sequence[tuple[str, float, str, str]], maximum: float | None = None, counts: bool = False, dense: bool = False) -> dict:
    """Vertical bars for (label, value, text shown, css class) items, with a y axis of four ticks
    (whole numbers for `counts`). A `dense` chart (many long labels) scrolls sideways on a phone
    instead of shrinking its text."""
    top = maximum or nice_max(max((v for _, v, _, _ in items), default=0))
    if counts:
        top = max(math.ceil(top / 4) * 4, 4.0)  # four whole-number ticks
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = inner_w / max(len(items), 1)
    width = min(slot * 0.6, 96)
    out = []
    for i, (label, value, text, css) in enumerate(items):
        h = inner_h * (value / top if top else 0)
        out.append(Bar(label, value, text, LEFT + slot * i + (slot - width) / 2, TOP + inner_h - h, width, h, css))
    ticks = [Tick(TOP + inner_h * (1 - k / 4), _tick_text(top * k / 4, top)) for k in range(5)]
    return {"bars": out, "ticks": ticks, "width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT,
            "base": TOP + inner_h, "label_y": HEIGHT - BOTTOM / 2 + 4, "dense": dense}


def _tick_text(value: float, top: float) -> str:
    if top < 4 or not float(top).is_integer():
        return f"{value:.2f}".rstrip("0").rstrip(".") or "0"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float
    value: float
    label: str
    css: str


def probability_line(points: Sequence[tuple[datetime, float, str]]) -> dict:
    """A line over time of probabilities (0..1), oldest left; the band edges drawn as guides."""
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    ordered = sorted(points, key=lambda p: p[0])
    if not ordered:
        return {"points": [], "path": "", "guides": [], "width": WIDTH, "height": HEIGHT}
    start, end = ordered[0][0], ordered[-1][0]
    span = (end - start).total_seconds()
    out = []
    for i, (moment, value, label) in enumerate(ordered):
        share = ((moment - start).total_seconds() / span) if span else (i / max(len(ordered) - 1, 1) if len(ordered) > 1 else 0.5)
        css = f"band-{Band.of(value).value}"
        out.append(Point(LEFT + inner_w * share, TOP + inner_h * (1 - value), value, label, css))
    path = "M" + " L".join(f"{p.x:.1f},{p.y:.1f}" for p in out)
    guides = [Tick(TOP + inner_h * (1 - edge), f"{edge:.2f}") for edge in EDGES]
    return {"points": out, "path": path, "guides": guides, "width": WIDTH, "height": HEIGHT, "left": LEFT,
            "right": WIDTH - RIGHT, "label_y": HEIGHT - BOTTOM / 2 + 4, "first": ordered[0][0], "last": ordered[-1][0]}


@dataclass(frozen=True, slots=True)
class Meter:
    label: str
    value: float
    text: str
    width: float
    best: bool


METER_WIDTH = 160


def meters(items: Sequence[tuple[str, float | None, str]], higher_is_better: bool = True) -> list[Meter]:
    """Small horizontal bars for one metric across versions (0..1 scale unless a value is above 1);
    the best value is flagged."""
    values = [v for _, v, _ in items if v is not None]
    top = max(1.0, max(values, default=0))
    best = (max(values) if higher_is_better else min(values)) if values else None
    return [Meter(label, v or 0.0, text, METER_WIDTH * ((v or 0.0) / top), v is not None and v == best and len(values) > 1)
            for label, v, text in items]


METRIC_ORDER = ("roc_auc", "pr_auc", "accuracy", "precision", "recall", "f1", "brier", "log_loss", "ece")


def band_bars(bands: Sequence[tuple[str, int]], fmt) -> dict:
    """One bar per risk band, coloured by band."""
    return bars([(f"{label} %", count, fmt.num(count), f"band-{label}") for label, count in bands], counts=True)


def day_bars(days: Sequence[tuple], fmt) -> dict:
    """One bar per day, oldest left; only every other day labelled when there are many."""
    step = 1 if len(days) <= 7 else 2
    items = [(fmt.day(day) if (len(days) - 1 - i) % step == 0 else "", n, fmt.num(n) if n else "", "day") for i, (day, n) in enumerate(days)]
    return bars(items, counts=True)


def metric_bars(metrics: dict[str, float], fmt) -> dict:
    """The hold-out metrics that live on a 0..1 scale, in a fixed order."""
    shown = [m for m in METRIC_ORDER if m in metrics and 0 <= metrics[m] <= 1]
    return bars([(m, metrics[m], fmt.num(metrics[m]), "metric loss" if m in LOWER_IS_BETTER else "metric") for m in shown], 1.0, dense=True)


LOWER_IS_BETTER = frozenset({"brier", "log_loss", "ece"})


def ordered_metrics(names) -> list[str]:
    """Metrics in the console's fixed order, any others after them alphabetically."""
    known = [m for m in METRIC_ORDER if m in names]
    return known + sorted(set(names) - set(METRIC_ORDER))


def compare_rows(columns: Sequence[tuple[str, dict[str, float] | None]], fmt) -> list[tuple[str, list[Meter | None]]]:
    """Per metric, one meter per version that could be scored (None for one that could not); the
    best flagged, lower is better for losses."""
    names = ordered_metrics({m for _, metrics in columns if metrics for m in metrics})
    rows = []
    for metric in names:
        scored = [(label, metrics.get(metric), fmt.num(metrics.get(metric))) for label, metrics in columns if metrics is not None]
        drawn = iter(meters(scored, higher_is_better=metric not in LOWER_IS_BETTER))
        rows.append((metric, [next(drawn) if metrics is not None else None for _, metrics in columns]))
    return rows


SQUARE = 300
S_LEFT, S_BOTTOM, S_TOP, S_RIGHT = 58, 36, 10, 18


def unit_curve(points: Sequence[tuple[float, float]], diagonal: bool = False) -> dict:
    """A curve on the unit square (ROC: false vs true positive rate; PR: recall vs precision; a
    reliability diagram: predicted vs observed), with quarter gridlines and, for ROC and
    reliability, the diagonal of a model that knows nothing / is perfectly calibrated."""
    inner = SQUARE - S_LEFT - S_RIGHT
    height = SQUARE - S_TOP - S_BOTTOM

    def at(x: float, y: float) -> tuple[float, float]:
        return S_LEFT + inner * min(max(x, 0.0), 1.0), S_TOP + height * (1 - min(max(y, 0.0), 1.0))

    xy = [at(x, y) for x, y in points]
    path = ("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in xy)) if xy else ""
    ticks = [(k / 4, *at(k / 4, 0.0), *at(0.0, k / 4)) for k in range(5)]
    return {"path": path, "dots": xy if len(xy) <= 20 else [], "ticks": ticks, "width": SQUARE, "height": SQUARE,
            "left": S_LEFT, "right": SQUARE - S_RIGHT, "top": S_TOP, "base": S_TOP + height,
            "diagonal": (at(0, 0), at(1, 1)) if diagonal else None}


@dataclass(frozen=True, slots=True)
class HBar:
    label: str
    text: str
    y: float
    width: float


HBARS_WIDTH = 460


def hbars(items: Sequence[tuple[str, float, str]], label_width: int = 160) -> dict:
    """Horizontal bars, largest first as given (feature importances), scaled to the largest |value|;
    narrower than the other charts so its text stays readable on a phone."""
    top = max((abs(v) for _, v, _ in items), default=0) or 1.0
    bar_room = HBARS_WIDTH - label_width - 60
    rows = [HBar(label, text, 8 + 24 * i, bar_room * abs(value) / top) for i, (label, value, text) in enumerate(items)]
    return {"rows": rows, "width": HBARS_WIDTH, "height": 16 + 24 * len(rows), "x0": label_width}


def evaluation_charts(evaluation) -> dict:
    """The version page's charts from a training's evaluation: ROC and PR curves, the reliability
    diagram (bins with rows only) and the 15 largest feature importances."""
    bins = [b for b in evaluation.reliability if b.count and b.mean_predicted is not None and b.observed_rate is not None]
    importances = list(evaluation.importances)[:15]
    return {
        "roc": unit_curve([(p.x, p.y) for p in evaluation.roc], diagonal=True) if evaluation.roc else None,
        "pr": unit_curve([(p.x, p.y) for p in evaluation.pr]) if evaluation.pr else None,
        "reliability": unit_curve([(b.mean_predicted, b.observed_rate) for b in bins], diagonal=True) if bins else None,
        "importances": hbars([(name, value, f"{value:.3g}") for name, value in importances]) if importances else None,
    }


def realised_reliability(bins) -> dict | None:
    """The reliability diagram of realised performance (bins holding outcomes only), or None."""
    points = [(b.mean_predicted, b.observed_rate) for b in bins if b.count and b.mean_predicted is not None and b.observed_rate is not None]
    return unit_curve(points, diagonal=True) if points else None


@dataclass(frozen=True, slots=True)
class DriftRow:
    name: str
    kind: str
    psi: float | None
    reading: object
    moved: object
    is_probability: bool


def drift_rows(report) -> list[DriftRow]:
    """The probability first, then the features, most drifted first (unmeasured last); each with the
    bin whose share moved most."""

    def row(d, is_probability: bool) -> DriftRow:
        moved = max(d.bins, key=lambda b: abs(b.actual - b.expected), default=None)
        return DriftRow(d.name, d.kind, d.psi, d.reading, moved, is_probability)

    features = sorted(report.features, key=lambda d: (d.psi is None, -(d.psi or 0.0), d.name))
    return [row(report.probability, True), *(row(d, False) for d in features)]
