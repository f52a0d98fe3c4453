"""How fast alerts are answered: MTTA and MTTR per severity over the last N days.

- The alerts counted are those that fired in the window (fired_at within the last N days).
- Time to acknowledge: from fired_at to the alert's first acknowledgement (its first
  `acknowledged` event, so a reopened and re-acknowledged alert keeps its first answer). An
  alert nobody acknowledged is counted as never acknowledged, not as zero and not in the means.
- Time to resolve: from fired_at to resolved_at, for the alerts resolved now. An open alert is
  counted as unresolved.

Counts and means are computed by the database on every backend. The median too on PostgreSQL
(percentile_cont over intervals); SQLite has no percentile function, so there the durations
(already computed by the database, in microseconds) are read in order and the middle taken,
which gives the same figure: percentile_cont(0.5) is the middle value, or the mean of the two
middle values.
"""

from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Aggregate, Avg, Count, DurationField, ExpressionWrapper, F, OuterRef, Subquery
from django.utils import timezone

from alerts.models import Alert, AlertEvent
from notifications.models import SEVERITY_RANK, Severity

WINDOWS = (7, 30, 90)
SEVERITIES = sorted(Severity.values, key=lambda s: -SEVERITY_RANK[s])


class Median(Aggregate):
    """PostgreSQL's continuous median; over an interval it gives an interval."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def _durations(since: datetime):
    first_ack = (
        AlertEvent.objects.filter(alert=OuterRef("pk"), kind=AlertEvent.Kind.ACKNOWLEDGED)
        .order_by("at")
        .values("at")[:1]
    )
    return (
        Alert.objects.filter(fired_at__gte=since)
        .annotate(first_ack_at=Subquery(first_ack))
        .annotate(
            to_ack=ExpressionWrapper(F("first_ack_at") - F("fired_at"), output_field=DurationField()),
            to_resolve=ExpressionWrapper(F("resolved_at") - F("fired_at"), output_field=DurationField()),
        )
    )


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds(), 3)


def _middle(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    half = len(values) // 2
    return values[half] if len(values) % 2 else (values[half - 1] + values[half]) / 2


def _sqlite_medians(rows, field: str) -> dict[str, timedelta | None]:
    by_severity: dict[str, list[timedelta]] = {}
    for severity, value in (
        rows.filter(**{f"{field}__isnull": False}).order_by("severity", field).values_list("severity", field)
    ):
        by_severity.setdefault(severity, []).append(value)
    return {severity: _middle(values) for severity, values in by_severity.items()}


def response_times(days: int, *, now: datetime | None = None) -> dict:
    """Per severity (most severe first): alerts fired in the last `days` days, how many were
    acknowledged and resolved, and the mean and median seconds to each."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    rows = _durations(since)
    figures = {
        "alerts": Count("pk"),
        "acknowledged": Count("to_ack"),
        "mean_to_ack": Avg("to_ack"),
        "resolved": Count("to_resolve"),
        "mean_to_resolve": Avg("to_resolve"),
    }
    in_database = connection.vendor == "postgresql"
    if in_database:
        figures.update(median_to_ack=Median("to_ack"), median_to_resolve=Median("to_resolve"))
    found = {row["severity"]: row for row in rows.values("severity").annotate(**figures).order_by()}
    if not in_database:
        medians_ack = _sqlite_medians(rows, "to_ack")
        medians_resolve = _sqlite_medians(rows, "to_resolve")
        for severity, row in found.items():
            row["median_to_ack"] = medians_ack.get(severity)
            row["median_to_resolve"] = medians_resolve.get(severity)
    by_severity = {}
    for severity in SEVERITIES:
        row = found.get(severity, {})
        total, acked, resolved = row.get("alerts", 0), row.get("acknowledged", 0), row.get("resolved", 0)
        by_severity[severity] = {
            "alerts": total,
            "acknowledge": {
                "count": acked,
                "never": total - acked,
                "mean_seconds": _seconds(row.get("mean_to_ack")),
                "median_seconds": _seconds(row.get("median_to_ack")),
            },
            "resolve": {
                "count": resolved,
                "unresolved": total - resolved,
                "mean_seconds": _seconds(row.get("mean_to_resolve")),
                "median_seconds": _seconds(row.get("median_to_resolve")),
            },
        }
    return {"days": days, "since": since, "until": now, "by_severity": by_severity}
