"""The train form's fields → what StartTraining takes. Text is passed on as typed when it is not what
a field expects, so the domain refuses it with its own message (the rules live in churn/, not here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from churn.decision import ThresholdRule
from churn.model_types import ParamKind
from churn.model_types import model_type as find_model_type
from churn.promotion import Activation
from churn.training_options import DEFAULT_CALIBRATION, DEFAULT_CV_FOLDS, NEEDS_CALIBRATION, Calibration, TrainingOptions


@dataclass(frozen=True, slots=True)
class TrainRequest:
    dataset: str
    model_type: str
    hyperparameters: dict[str, Any]
    name: str | None
    exclude: tuple[str, ...]
    options: TrainingOptions


def calibration_choices(model_type: str) -> tuple[Calibration, tuple[Calibration, ...]]:
    """(the type's default, the methods it may be trained with)."""
    default = DEFAULT_CALIBRATION.get(model_type, Calibration.NONE)
    allowed = tuple(c for c in Calibration if not (c is Calibration.NONE and model_type in NEEDS_CALIBRATION))
    return default, allowed


def hyperparameters(model_type: str, form: Mapping[str, str]) -> dict[str, Any]:
    """Form text → typed values; a blank field keeps the default. Range checks are the use case's."""
    out: dict[str, Any] = {}
    for spec in find_model_type(model_type).hyperparameters:
        text = (form.get(f"hp.{spec.name}") or "").strip()
        if not text:
            continue
        if spec.kind is ParamKind.CHOICE:
            out[spec.name] = text
            continue
        number = _number(text)
        if number is None:
            out[spec.name] = text  # refused by the use case with the allowed range
        else:
            out[spec.name] = int(number) if spec.kind is ParamKind.INT and number.is_integer() else number
    return out


def threshold_rule(form: Mapping[str, str]) -> ThresholdRule:
    """`threshold_rule` fixed (with `threshold_value`, blank = 0.5), max_f1, or cost (with `cost_fn`, `cost_fp`)."""
    rule = form.get("threshold_rule", "fixed")
    if rule == "max_f1":
        return ThresholdRule.parse("max_f1")
    if rule == "cost":
        costs = {key: form.get(field, "").strip() for key, field in (("cost_false_negative", "cost_fn"), ("cost_false_positive", "cost_fp"))}
        return ThresholdRule.parse({key: _number_or_text(text) for key, text in costs.items()})
    text = form.get("threshold_value", "").strip()
    return ThresholdRule.parse(_number_or_text(text) if text else None)


def excluded(offered: Sequence[str], chosen: Sequence[str]) -> tuple[str, ...]:
    """The feature columns offered by the form and left unticked."""
    kept = set(chosen)
    return tuple(name for name in offered if name not in kept)


def train_request(form: Mapping[str, str], offered: Sequence[str], chosen: Sequence[str]) -> TrainRequest:
    """InvalidRequestError (from the domain) for a bad threshold, calibration, folds or activation."""
    model_type = form.get("model_type", "")
    folds_text = form.get("cv_folds", "").strip()
    folds: Any = DEFAULT_CV_FOLDS if not folds_text else _number_or_text(folds_text)
    if isinstance(folds, float) and folds.is_integer():
        folds = int(folds)
    calibration = form.get("calibration", "").strip()
    options = TrainingOptions(
        activate=Activation.parse(form.get("activate", Activation.IF_BETTER.value)),
        calibration=Calibration.parse(calibration) if calibration else None,
        threshold=threshold_rule(form),
        cv_folds=folds,
    )
    return TrainRequest(
        dataset=form.get("dataset", ""),
        model_type=model_type,
        hyperparameters=hyperparameters(model_type, form),
        name=(form.get("name") or "").strip() or None,
        exclude=excluded(offered, chosen),
        options=options,
    )


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return None


def _number_or_text(text: str) -> Any:
    number = _number(text)
    return text if number is None else number
