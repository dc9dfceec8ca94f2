from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from churn.errors import InvalidRequestError
from churn.versions import ModelFilter, ModelRef
from churn.ports import DatasetStore, Trainer
from churn.services.model_versions import ModelVersions

MAX_COMPARED = 10


@dataclass(frozen=True, slots=True)
class ComparedVersion:
    """One version scored on a data set's hold-out: its metrics at its own threshold, or why it could
    not be scored (`problem`, e.g. the features the data set lacks)."""

    ref: ModelRef
    threshold: float
    metrics: Mapping[str, float] | None
    problem: str | None = None
    missing_features: tuple[str, ...] = ()


class CompareModels:
    """Score several versions on the same rows: the hold-out of one data set (the rows a version
    trained on that data set never saw), metrics side by side, in the order asked."""

    def __init__(self, datasets: DatasetStore, versions: ModelVersions, trainer: Trainer) -> None:
        self._datasets = datasets
        self._versions = versions
        self._trainer = trainer

    def execute(self, versions: Sequence[str], dataset: str) -> tuple[int, list[ComparedVersion]]:
        """(hold-out rows, one entry per version). InvalidRequestError for no or too many versions or a
        malformed one; ModelNotFoundError / DatasetNotFoundError (404) for unknown ones."""
        if not versions or len(versions) > MAX_COMPARED:
            raise InvalidRequestError(f"compare 1 to {MAX_COMPARED} versions ('name:version' or 'name')")
        wanted = [ModelFilter.parse(text) for text in versions]
        found = self._datasets.get(dataset)
        models = [self._versions.get(w) for w in wanted]
        holdout = self._trainer.holdout(found, self._datasets.content(dataset))
        available = set(holdout.columns)
        compared = []
        for ref, model in models:
            missing = tuple(name for name in model.schema.names if name not in available)
            if missing:
                compared.append(
                    ComparedVersion(ref, model.threshold, None, f"the data set {dataset!r} lacks {len(missing)} of its features", missing)
                )
                continue
            mismatched = [
                f"{spec.name} is {holdout.kinds[spec.name]} in the data set, {spec.kind.value} for the model"
                for spec in model.schema.features
                if holdout.kinds.get(spec.name, spec.kind.value) != spec.kind.value
            ]
            if mismatched:
                compared.append(ComparedVersion(ref, model.threshold, None, "the data set's columns do not fit its features: " + "; ".join(mismatched[:5])))
                continue
            metrics = self._trainer.evaluate(model, holdout)
            compared.append(ComparedVersion(ref, model.threshold, metrics))
        return len(holdout.labels), compared
