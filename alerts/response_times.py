"""How fast alerts are answered: MTTA and MTTR per severity over the last 7, 30 and 90 days.

- The alerts counted are those that fired in the window (fired_at within the last N days).
- Time to acknowledge: from fired_at to the alert's first acknowledgement (first_acknowledged_at,
  which reopening keeps). An alert nobody acknowledged is counted as never acknowledged: not as
  zero, and not in the mean or the median.
- Time to resolve: from fired_at to resolved_at, for the alerts resolved now. An open alert is
  counted as unresolved.

The database computes the durations, counts and means on every backend, all windows in one
query. On PostgreSQL the medians too (percentile_cont over intervals). SQLite has no percentile
function, so there the durations (computed by the database, in microseconds) are read in one
more query and the middle taken, which is the same figure: percentile_cont(0.5) is the middle
value, or the mean of the two middle values.
"""

from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Aggregate, Avg, Count, DurationField, ExpressionWrapper, F, Q
from django.utils import timezone

from alerts.models import Alert
from notifications.models import SEVERITY_RANK, Severity

WINDOWS = (7, 30, 90)
SEVERITIES = sorted(Severity.values, key=lambda s: -SEVERITY_RANK[s])


class Median(Aggregate):
    """PostgreSQL's continuous median; over an interval it gives an interval."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def _durations(since: datetime):
    # Drills measure the paging path, not how incidents are handled.
    return (
        Alert.objects.filter(fired_at__gte=since)
        .exclude(alert_type=Alert.Type.DRILL)
        .annotate(
            to_ack=ExpressionWrapper(
                F("first_acknowledged_at") - F("fired_at"), output_field=DurationField()
            ),
            to_resolve=ExpressionWrapper(F("resolved_at") - F("fired_at"), output_field=DurationField()),
        )
    )


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds(), 3)


def _middle(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    values = sorted(values)
    half = len(values) // 2
    return values[half] if len(values) % 2 else (values[half - 1] + values[half]) / 2


def _medians_read(rows, starts: dict[int, datetime], found: dict) -> None:
    """SQLite: the medians of each window and severity, from the durations in one pass."""
    picked: dict[tuple, list[timedelta]] = {}
    for severity, fired_at, to_ack, to_resolve in rows.values_list(
        "severity", "fired_at", "to_ack", "to_resolve"
    ):
        for days, since in starts.items():
            if fired_at >= since:
                for name, value in (("to_ack", to_ack), ("to_resolve", to_resolve)):
                    if value is not None:
                        picked.setdefault((days, severity, name), []).append(value)
    for (days, severity), row in found.items():
        for name in ("to_ack", "to_resolve"):
            row[f"median_{name}_{days}"] = _middle(picked.get((days, severity, name), []))


def _figures(row: dict, days: int | str) -> dict:
    total, acked = row.get(f"alerts_{days}", 0), row.get(f"acknowledged_{days}", 0)
    resolved = row.get(f"resolved_{days}", 0)
    return {
        "alerts": total,
        "acknowledge": {
            "count": acked,
            "never": total - acked,
            "mean_seconds": _seconds(row.get(f"mean_to_ack_{days}")),
            "median_seconds": _seconds(row.get(f"median_to_ack_{days}")),
        },
        "resolve": {
            "count": resolved,
            "unresolved": total - resolved,
            "mean_seconds": _seconds(row.get(f"mean_to_resolve_{days}")),
            "median_seconds": _seconds(row.get(f"median_to_resolve_{days}")),
        },
    }


def response_times_windows(windows=WINDOWS, *, now: datetime | None = None) -> dict[int, dict]:
    """{days: per severity (most severe first) figures} for each window, in one or two queries."""
    now = now or timezone.now()
    starts = {days: now - timedelta(days=days) for days in windows}
    found = _measure(starts, _durations(min(starts.values())))
    return {
        days: {
            "days": days,
            "since": since,
            "until": now,
            "by_severity": {
                severity: _figures(found.get((days, severity), {}), days) for severity in SEVERITIES
            },
        }
        for days, since in starts.items()
    }


def response_times_between(*, since: datetime, until: datetime) -> dict:
    """The same figures for the alerts fired in [since, until) (a report's period)."""
    found = _measure({"period": since}, _durations(since).filter(fired_at__lt=until))
    return {
        "since": since,
        "until": until,
        "by_severity": {
            severity: _figures(found.get(("period", severity), {}), "period") for severity in SEVERITIES
        },
    }


def _measure(starts: dict, rows) -> dict:
    """{(window, severity): aggregates} for each window's start, in one or two queries."""
    in_database = connection.vendor == "postgresql"
    figures = {}
    for days, since in starts.items():
        window = Q(fired_at__gte=since)
        figures.update(
            {
                f"alerts_{days}": Count("pk", filter=window),
                f"acknowledged_{days}": Count("to_ack", filter=window),
                f"mean_to_ack_{days}": Avg("to_ack", filter=window),
                f"resolved_{days}": Count("to_resolve", filter=window),
                f"mean_to_resolve_{days}": Avg("to_resolve", filter=window),
            }
        )
        if in_database:
            figures[f"median_to_ack_{days}"] = Median("to_ack", filter=window)
            figures[f"median_to_resolve_{days}"] = Median("to_resolve", filter=window)
    found = {
        (days, row["severity"]): row
        for row in rows.values("severity").annotate(**figures).order_by()
        for days in starts
    }
    if not in_database:
        _medians_read(rows, starts, found)
    return found


def response_times(days: int, *, now: datetime | None = None) -> dict:
    """Alerts fired in the last `days` days, per severity: how many were acknowledged and
    resolved, and the mean and median seconds to each."""
    return response_times_windows((days,), now=now)[days]
