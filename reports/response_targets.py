"""Response targets per severity, checked against each alert's timeline: the first
acknowledgement (kept when an alert is reopened, as MTTA measures it) and the resolution."""

from datetime import datetime, timedelta

from django.utils import timezone

from alerts.models import Alert
from reports.business_hours import deadline
from reports.models import ResponseBreach, ResponseTarget

# How far back the sweep looks: an alert older than this was settled long ago (its breach, if
# any, recorded), so the sweep's cost stays bounded by a month of alerts.
LOOKBACK = timedelta(days=30)


def response_targets_check(*, now: datetime | None = None) -> str:
    """Record each missed target once. Safe with several workers at once: what they find is
    the same, and the (alert, kind) unique constraint keeps one row."""
    now = now or timezone.now()
    targets = {t.severity: t for t in ResponseTarget.objects.select_related("calendar")}
    if not targets:
        return "response targets: none set"
    alerts = (
        Alert.objects.filter(fired_at__gte=now - LOOKBACK, severity__in=list(targets))
        .exclude(alert_type=Alert.Type.DRILL)
        .only("pk", "severity", "fired_at", "first_acknowledged_at", "resolved_at")
    )
    known = set(
        ResponseBreach.objects.filter(alert__fired_at__gte=now - LOOKBACK).values_list("alert_id", "kind")
    )
    found = []
    for alert in alerts.iterator(chunk_size=2000):
        target = targets[alert.severity]
        for kind, minutes, answered_at in (
            (ResponseBreach.Kind.ACKNOWLEDGE, target.acknowledge_minutes, alert.first_acknowledged_at),
            (ResponseBreach.Kind.RESOLVE, target.resolve_minutes, alert.resolved_at),
        ):
            if minutes is None or (alert.pk, kind) in known:
                continue
            due = deadline(alert.fired_at, minutes * 60, target.calendar)
            if (answered_at or now) > due:
                found.append(
                    ResponseBreach(
                        alert_id=alert.pk,
                        kind=kind,
                        severity=alert.severity,
                        target_minutes=minutes,
                        business_hours=target.calendar.name if target.calendar else "",
                        due_at=due,
                        answered_at=answered_at,
                        recorded_at=now,
                    )
                )
    ResponseBreach.objects.bulk_create(found, ignore_conflicts=True, batch_size=500)
    return f"response targets: {len(found)} breaches found"
