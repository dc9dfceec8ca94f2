from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from churn.ports import Clock, PredictionRepository


class CountPredictionsPerDay:
    """Predictions stored on each of the last `days` UTC days, oldest first, today included; a day
    with none is there with zero."""

    def __init__(self, predictions: PredictionRepository, clock: Clock) -> None:
        self._predictions = predictions
        self._clock = clock

    def execute(self, days: int = 14) -> list[tuple[date, int]]:
        today = self._clock.now().astimezone(timezone.utc).date()
        first = today - timedelta(days=days - 1)
        counts = self._predictions.count_by_day(datetime.combine(first, time(), tzinfo=timezone.utc))
        return [(first + timedelta(days=i), counts.get(first + timedelta(days=i), 0)) for i in range(days)]
