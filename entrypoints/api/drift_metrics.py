"""Drift gauges on /metrics, per model version and feature (churn.drift's PSI).

Measuring drift reads a sample of stored predictions, so a scrape does not do it every time: the
figures are measured again when a scrape finds them older than `refresh_seconds`, and exported as
they are otherwise. Every process reads the same store, so each exports the same figures (with
several server processes they are read from the store, not mirrored)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Iterable

from prometheus_client.core import GaugeMetricFamily

from churn.drift import DEFAULT_DAYS
from churn.errors import ChurnError, DriftReferenceMissingError
from churn.versions import ModelRef
from churn.use_cases.measure_drift import MeasureDrift

GAUGE_VERSIONS = 5
"""The newest versions with a drift reference that get gauges (the active one always does)."""
GAUGE_SAMPLE = 10_000
"""Predictions per version measured for the gauges (the newest of the last DEFAULT_DAYS days)."""

log = logging.getLogger("churn.metrics")


class DriftGauges:
    def __init__(
        self, measure: MeasureDrift, versions: Callable[[], Iterable[ModelRef]], refresh_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._measure = measure
        self._versions = versions
        self._refresh = refresh_seconds
        self._monotonic = monotonic
        self._measured_at: float | None = None
        self._families: list[GaugeMetricFamily] = []
        self._lock = threading.Lock()

    def collect(self) -> list[GaugeMetricFamily]:
        with self._lock:
            now = self._monotonic()
            if self._measured_at is None or now - self._measured_at >= self._refresh:
                self._families = self._measure_all()
                self._measured_at = now
            return self._families

    def _measure_all(self) -> list[GaugeMetricFamily]:
        features = GaugeMetricFamily(
            "churn_feature_drift_psi",
            f"Population stability index of each feature: the last {DEFAULT_DAYS} days' predictions of a version against its training data "
            "(< 0.1 stable, 0.1 to 0.25 watch, > 0.25 shifted)",
            labels=["model", "feature"],
        )
        probability = GaugeMetricFamily(
            "churn_probability_drift_psi",
            f"Population stability index of the predicted probability: the last {DEFAULT_DAYS} days against the version's hold-out",
            labels=["model"],
        )
        measured = GaugeMetricFamily("churn_drift_predictions", "Predictions the drift gauges of a version were measured on", labels=["model"])
        try:
            versions = list(self._versions())
        except ChurnError as exc:
            log.warning("drift gauges: the model versions could not be listed: %s", exc.message)
            return []
        for ref in versions:
            try:
                report = self._measure.execute(ref, DEFAULT_DAYS)
            except DriftReferenceMissingError:
                continue  # trained before drift references: nothing to measure against
            except ChurnError as exc:  # a store outage, a version removed meanwhile: no gauge this time
                log.warning("drift gauges: %s could not be measured: %s", ref, exc.message)
                continue
            if report.predictions == 0:
                continue
            model = str(ref)
            measured.add_metric([model], report.predictions)
            if report.probability.psi is not None:
                probability.add_metric([model], report.probability.psi)
            for drift in report.features:
                if drift.psi is not None:
                    features.add_metric([model, drift.name], drift.psi)
        return [features, probability, measured]


def gauge_versions(records: Callable[[], Iterable], active: Callable[[], ModelRef | None]) -> Callable[[], list[ModelRef]]:
    """The active version and the GAUGE_VERSIONS newest versions that have a drift reference."""

    def versions() -> list[ModelRef]:
        chosen = [r.ref for r in records() if r.summary.drift_reference is not None][:GAUGE_VERSIONS]
        current = active()
        if current is not None and current not in chosen:
            chosen.insert(0, current)
        return chosen

    return versions


def drift_gauges(container, refresh_seconds: float | None) -> Callable[[], list[GaugeMetricFamily]]:
    """The collect function of the drift gauges on the container's store and active model, built at
    the first scrape (creating the app connects nothing)."""
    built: list[DriftGauges] = []

    def collect() -> list[GaugeMetricFamily]:
        if not built:
            measure = MeasureDrift(container.model_records(), container.predictions(), container.clock(), sample_limit=GAUGE_SAMPLE)
            versions = gauge_versions(lambda: container.model_records().list(), lambda: container.active_model().current_ref())
            built.append(DriftGauges(measure, versions, 300.0 if refresh_seconds is None else refresh_seconds))
        return built[0].collect()

    return collect
