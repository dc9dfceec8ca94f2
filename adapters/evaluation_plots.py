"""PNG charts of a training's evaluation, for the MLflow run: ROC, PR, reliability diagram, confusion
matrix at the threshold, feature importances (and their table as CSV).

Drawn by the trainer, where the model was fitted (a worker process by default): drawing five charts
is about a second of CPU under the GIL, which in the serving process would stretch /predict's tail.
matplotlib's object API on the Agg canvas only: no pyplot, so no process-global figure or backend
state is touched and charts can be drawn from any thread.
"""

from __future__ import annotations

import csv
import io
from typing import Mapping

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from churn.evaluation import Evaluation

MAX_IMPORTANCE_BARS = 25


def render_evaluation(evaluation: Evaluation, metrics: Mapping[str, float], threshold: float, title: str) -> dict[str, bytes]:
    """Every chart and the importance table, by file name."""
    written: dict[str, bytes] = {}

    figure, axes = _figure()
    axes.plot([p.x for p in evaluation.roc], [p.y for p in evaluation.roc], label=f"ROC AUC {metrics.get('roc_auc', float('nan')):.3f}")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8)
    axes.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC curve (hold-out) · {title}")
    axes.legend(loc="lower right")
    written["roc_curve.png"] = _png(figure)

    figure, axes = _figure()
    axes.plot([p.x for p in evaluation.pr], [p.y for p in evaluation.pr], label=f"PR AUC {metrics.get('pr_auc', float('nan')):.3f}")
    axes.set(xlabel="recall", ylabel="precision", title=f"Precision-recall curve (hold-out) · {title}", xlim=(0, 1), ylim=(0, 1.02))
    axes.legend(loc="upper right")
    written["pr_curve.png"] = _png(figure)

    figure, axes = _figure()
    filled = [(b.mean_predicted, b.observed_rate, b.count) for b in evaluation.reliability if b.mean_predicted is not None and b.observed_rate is not None]
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8, label="perfectly calibrated")
    axes.plot([x for x, _, _ in filled], [y for _, y, _ in filled], marker="o", label=f"ECE {metrics.get('ece', float('nan')):.3f}")
    for x, y, count in filled:  # a bin's figures are None exactly when it is empty
        axes.annotate(str(count), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
    axes.set(
        xlabel="mean predicted probability (10 equal-width bins)", ylabel="observed churn rate",
        title=f"Reliability diagram ({evaluation.calibration}) · {title}", xlim=(0, 1), ylim=(0, 1),
    )
    axes.legend(loc="upper left")
    written["reliability_diagram.png"] = _png(figure)

    figure, axes = _figure(size=(4.8, 4.2))
    c = evaluation.confusion
    cells = [[c.get("true_negative", 0), c.get("false_positive", 0)], [c.get("false_negative", 0), c.get("true_positive", 0)]]
    axes.imshow(cells, cmap="Blues")
    for i in range(2):
        for j in range(2):
            axes.text(j, i, str(cells[i][j]), ha="center", va="center", fontsize=12)
    axes.set_xticks([0, 1], labels=["predicted stays", "predicted churns"])
    axes.set_yticks([0, 1], labels=["stayed", "churned"])
    axes.set_title(f"Confusion matrix at threshold {threshold:.3f}")
    written["confusion_matrix.png"] = _png(figure)

    table = io.StringIO(newline="")
    writer = csv.writer(table)
    writer.writerow(["feature", "importance", "kind"])
    for name, value in evaluation.importances:
        writer.writerow([name, value, evaluation.importance_kind])
    written["feature_importances.csv"] = table.getvalue().encode()
    shown = list(evaluation.importances[:MAX_IMPORTANCE_BARS])[::-1]
    figure, axes = _figure(size=(6.4, max(2.5, 0.28 * len(shown) + 1.2)))
    axes.barh([name for name, _ in shown], [value for _, value in shown])
    axes.set(xlabel=evaluation.importance_kind, title=f"Feature importances · {title}")
    written["feature_importances.png"] = _png(figure)
    return written


def _figure(size: tuple[float, float] = (5.6, 4.6)) -> tuple[Figure, Axes]:
    figure = Figure(figsize=size, dpi=100, layout="tight")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
