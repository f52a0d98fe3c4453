"""Event counters: counted in memory, written as one Metric row per series and interval.

For events that arrive in surges (a visitor reporting trouble during an outage), an INSERT per
event would turn the surge into a write storm exactly when the database is busiest. counter_add
only bumps an integer under a lock; the request-timing flusher thread (monitoring/timing.py)
writes the totals every METRIC_COLLECTION_INTERVAL: one row per (name, labels) with the count
as its value and the labels as its tags. flush_counters() does the same on demand (tests,
shutdown).

Each process counts and flushes its own events, so two web processes write two rows for the
same series and interval: readers sum the values. A flush that fails (database away) drops that
interval's counts and logs it, as request timing does: memory must never pile up.
"""

import logging
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils import timezone

from monitoring.models import Metric
from monitoring.writer import metrics_write

logger = logging.getLogger(__name__)

# A bound on distinct series held between flushes, whatever the callers pass as labels.
MAX_SERIES = 10_000


@dataclass(frozen=True)
class CounterKind:
    """What a counter's rows are filed under (the Metric columns other than the labels)."""

    name: str
    metric_type: str
    category: str
    unit: str = ""


SeriesKey = tuple[CounterKind, tuple[tuple[str, str], ...]]


class CounterAggregator:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[SeriesKey, int] = {}
        self.dropped = 0

    def add(self, kind: CounterKind, labels: Mapping[str, str], amount: int = 1) -> bool:
        """Count `amount` events of one series; False when the series bound was reached."""
        key = (kind, tuple(sorted((str(k), str(v)) for k, v in labels.items())))
        with self._lock:
            if key not in self._counts and len(self._counts) >= MAX_SERIES:
                self.dropped += amount
                return False
            self._counts[key] = self._counts.get(key, 0) + amount
        return True

    def take(self) -> dict[SeriesKey, int]:
        """Hand over everything counted so far and start afresh."""
        with self._lock:
            taken, self._counts = self._counts, {}
        return taken


aggregator = CounterAggregator()


def counter_add(kind: CounterKind, *, labels: Mapping[str, str], amount: int = 1) -> bool:
    return aggregator.add(kind, labels, amount)


def counter_rows(taken: Mapping[SeriesKey, int], *, source: str, now=None) -> list[Metric]:
    now = now or timezone.now()
    return [
        Metric(
            metric_type=kind.metric_type,
            category=kind.category,
            name=kind.name,
            value=float(count),
            unit=kind.unit,
            source=source,
            tags=dict(labels),
            timestamp=now,
        )
        for (kind, labels), count in sorted(taken.items(), key=lambda item: (item[0][0].name, item[0][1]))
        if count
    ]


def flush_counters(*, now=None) -> int:
    """Write what the counters hold, one row per series; returns rows written."""
    taken = aggregator.take()
    if not taken:
        return 0
    rows = counter_rows(taken, source=socket.gethostname(), now=now)
    try:
        metrics_write(rows)
    except Exception as exc:
        logger.warning("counters for %d series dropped: %s", len(rows), exc)
        return 0
    return len(rows)
