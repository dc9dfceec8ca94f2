"""PNG charts of a version's evaluation for the MLflow run: ROC, PR, reliability diagram, confusion
matrix at the threshold, feature importances.

matplotlib's object API on the Agg canvas only: no pyplot, so no process-global figure or backend
state is touched and charts can be drawn from the training threads.
"""

from __future__ import annotations

import csv
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from churn.versions import TrainingSummary

MAX_IMPORTANCE_BARS = 25


def write_evaluation_artifacts(summary: TrainingSummary, title: str, into: Path) -> list[Path]:
    """Every chart and the importance table under `into`; nothing when the summary has no evaluation."""
    evaluation = summary.evaluation
    if evaluation is None:
        return []
    into.mkdir(parents=True, exist_ok=True)
    written = []
    metrics = summary.metrics

    figure, axes = _figure()
    axes.plot([p.x for p in evaluation.roc], [p.y for p in evaluation.roc], label=f"ROC AUC {metrics.get('roc_auc', float('nan')):.3f}")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8)
    axes.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC curve (hold-out) · {title}")
    axes.legend(loc="lower right")
    written.append(_save(figure, into / "roc_curve.png"))

    figure, axes = _figure()
    axes.plot([p.x for p in evaluation.pr], [p.y for p in evaluation.pr], label=f"PR AUC {metrics.get('pr_auc', float('nan')):.3f}")
    axes.set(xlabel="recall", ylabel="precision", title=f"Precision-recall curve (hold-out) · {title}", xlim=(0, 1), ylim=(0, 1.02))
    axes.legend(loc="upper right")
    written.append(_save(figure, into / "pr_curve.png"))

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
    written.append(_save(figure, into / "reliability_diagram.png"))

    figure, axes = _figure(size=(4.8, 4.2))
    c = evaluation.confusion
    cells = [[c.get("true_negative", 0), c.get("false_positive", 0)], [c.get("false_negative", 0), c.get("true_positive", 0)]]
    axes.imshow(cells, cmap="Blues")
    for i in range(2):
        for j in range(2):
            axes.text(j, i, str(cells[i][j]), ha="center", va="center", fontsize=12)
    axes.set_xticks([0, 1], labels=["predicted stays", "predicted churns"])
    axes.set_yticks([0, 1], labels=["stayed", "churned"])
    axes.set_title(f"Confusion matrix at threshold {summary.threshold:.3f}")
    written.append(_save(figure, into / "confusion_matrix.png"))

    table = into / "feature_importances.csv"
    with table.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["feature", "importance", "kind"])
        for name, value in evaluation.importances:
            writer.writerow([name, value, evaluation.importance_kind])
    written.append(table)
    shown = list(evaluation.importances[:MAX_IMPORTANCE_BARS])[::-1]
    figure, axes = _figure(size=(6.4, max(2.5, 0.28 * len(shown) + 1.2)))
    axes.barh([name for name, _ in shown], [value for _, value in shown])
    axes.set(xlabel=evaluation.importance_kind, title=f"Feature importances · {title}")
    written.append(_save(figure, into / "feature_importances.png"))
    return written


def _figure(size: tuple[float, float] = (5.6, 4.6)) -> tuple[Figure, Axes]:
    figure = Figure(figsize=size, dpi=100, layout="tight")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _save(figure: Figure, path: Path) -> Path:
    figure.savefig(path, format="png")
    return path
