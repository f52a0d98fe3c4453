"""What a report says about a period of whole UTC days (the last one up to now if it is today).

Uptime comes from the status page's own figures (statuspage.uptime.figures_between), so a
report's figure for a span equals the uptime API's for the same span, to the second. The
other sections read the rows they are about: incidents and maintenance overlapping the period,
alerts fired in it (MTTA/MTTR from alerts.response_times), response-target breaches due in it,
deliveries that failed in it, and each SLO's attainment over the period."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from alerts.models import Alert
from alerts.response_times import SEVERITIES, response_times_between
from notifications.models import Delivery
from reports.models import ResponseBreach, ServiceLevelObjective
from statuspage import uptime
from statuspage.models import Component, Incident, Maintenance

# Failed deliveries and incidents are listed up to this many; the counts are whole.
LISTED = 50


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive

    def bounds(self, now: datetime) -> tuple[datetime, datetime]:
        """[start, end) in UTC, the end no later than now."""
        start = uptime.day_start(self.first)
        return start, max(start, min(uptime.day_start(self.last) + timedelta(days=1), now))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def report_components(ids=None) -> list[Component]:
    components = Component.objects.select_related("group").order_by("group__position", "position", "pk")
    return list(components.filter(pk__in=ids) if ids else components)


def _row(component: Component, figures: list) -> dict:
    observed, down = uptime.totals(figures)
    kept = [f for f in figures if f.uptime is not None]
    return {
        "id": component.pk,
        "name": component.name,
        "group": component.group.name if component.group_id else None,
        "uptime_percentage": uptime.percentage(figures),
        "observed_seconds": round(observed),
        "major_outage_seconds": round(sum(f.major_outage_seconds for f in kept)),
        "partial_outage_seconds": round(sum(f.partial_outage_seconds for f in kept)),
        "degraded_performance_seconds": round(sum(f.degraded_seconds for f in kept)),
        "under_maintenance_seconds": round(sum(f.maintenance_seconds for f in kept)),
        # The formula's weighted downtime (major + 0.3 × partial), in minutes.
        "downtime_minutes": round(down / 60, 2),
        "uptime_minutes": round((observed - down) / 60, 2),
    }


def uptime_rows(period: Period, components: list[Component], *, now: datetime | None = None) -> dict:
    """Per component, and per day pooled (the chart): the page's uptime figures for the period."""
    return _uptime(period, components, now or timezone.now())[1]


def _uptime(period: Period, components: list[Component], now: datetime) -> tuple[dict, dict]:
    figures = uptime.figures_between(components, first=period.first, last=period.last, now=now)
    daily = []
    for i in range(period.days):
        day = [figures[c.pk][i] for c in components]
        daily.append(
            {
                "date": (period.first + timedelta(days=i)).isoformat(),
                "downtime_minutes": round(sum(f.weighted_down for f in day if f.uptime is not None) / 60, 2),
            }
        )
    start, end = period.bounds(now)
    return figures, {
        "from": period.first.isoformat(),
        "to": period.last.isoformat(),
        "start": start,
        "end": end,
        "formula": uptime.FORMULA,
        "components": [_row(c, figures[c.pk]) for c in components],
        "daily": daily,
    }


def _incidents(start: datetime, end: datetime, ids: list[int], now: datetime) -> dict:
    incidents = (
        Incident.objects.filter(started_at__lt=end)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=start))
        .filter(components__in=ids)
        .distinct()
        .order_by("started_at", "pk")
        .prefetch_related("components")
    )
    listed = []
    for incident in incidents[:LISTED]:
        until = incident.resolved_at or now
        listed.append(
            {
                "id": incident.pk,
                "title": incident.title,
                "impact": incident.effective_impact,
                "status": incident.status,
                "started_at": incident.started_at,
                "resolved_at": incident.resolved_at,
                "duration_seconds": round((until - incident.started_at).total_seconds()),
                "components": sorted(c.name for c in incident.components.all() if c.pk in ids),
            }
        )
    return {"count": incidents.count(), "listed": listed}


def _maintenance(start: datetime, end: datetime, ids: list[int]) -> list[dict]:
    windows = (
        Maintenance.objects.filter(scheduled_for__lt=end, scheduled_until__gt=start, components__in=ids)
        .distinct()
        .order_by("scheduled_for", "pk")
    )
    return [
        {
            "id": m.pk,
            "title": m.title,
            "status": m.status,
            "scheduled_for": m.scheduled_for,
            "scheduled_until": m.scheduled_until,
            "started_at": m.started_at,
            "completed_at": m.completed_at,
        }
        for m in windows[:LISTED]
    ]


def _alerts(start: datetime, end: datetime) -> dict:
    counts = dict(
        Alert.objects.filter(fired_at__gte=start, fired_at__lt=end)
        .exclude(alert_type=Alert.Type.DRILL)
        .values_list("severity")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {severity: counts.get(severity, 0) for severity in SEVERITIES}


def _breaches(start: datetime, end: datetime) -> dict:
    rows = ResponseBreach.objects.filter(due_at__gte=start, due_at__lt=end).select_related("alert")
    return {
        "count": rows.count(),
        "listed": [
            {
                "alert": b.alert_id,
                "title": b.alert.title,
                "severity": b.severity,
                "kind": b.kind,
                "target_minutes": b.target_minutes,
                "business_hours": b.business_hours,
                "due_at": b.due_at,
                "answered_at": b.answered_at,
            }
            for b in rows.order_by("due_at", "pk")[:LISTED]
        ],
    }


def _failed_deliveries(start: datetime, end: datetime) -> dict:
    failed = Delivery.objects.filter(
        status=Delivery.Status.FAILED, updated_at__gte=start, updated_at__lt=end
    ).select_related("message")
    by_kind = dict(failed.values_list("kind").annotate(n=Count("pk")).order_by())
    return {
        "count": sum(by_kind.values()),
        "by_kind": by_kind,
        "listed": [
            {
                "id": d.pk,
                "kind": d.kind,
                "recipient": d.recipient if d.kind == "email" else "",
                "subject": d.message.subject,
                "error": d.last_error[:200],
                "at": d.updated_at,
            }
            for d in failed.order_by("-updated_at", "-pk")[:LISTED]
        ],
    }


def _slos(figures: dict, components: list[Component]) -> list[dict]:
    """Each SLO on these components (or their groups), judged over the report's period."""
    groups: dict[int, list[int]] = {}
    for component in components:
        if component.group_id:
            groups.setdefault(component.group_id, []).append(component.pk)
    slos = ServiceLevelObjective.objects.filter(
        Q(component__in=list(figures)) | Q(group__in=list(groups))
    ).order_by("name")
    result = []
    for slo in slos:
        members = [slo.component_id] if slo.component_id else groups[slo.group_id]
        attained = uptime.ratio([f for pk in members for f in figures[pk]])
        result.append(
            {
                "id": slo.pk,
                "name": slo.name,
                "target_percentage": float(slo.target_percent),
                "attained_percentage": None if attained is None else round(100 * attained, 4),
                "met": None if attained is None else attained >= slo.target,
            }
        )
    return result


def report_build(period: Period, components: list[Component], *, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    figures, rows = _uptime(period, components, now)
    start, end = rows["start"], rows["end"]
    ids = [c.pk for c in components]
    return {
        **rows,
        "generated_at": now.astimezone(UTC),
        "incidents": _incidents(start, end, ids, now),
        "maintenance": _maintenance(start, end, ids),
        "alerts_by_severity": _alerts(start, end),
        "response_times": response_times_between(since=start, until=end),
        "response_breaches": _breaches(start, end),
        "slos": _slos(figures, components),
        "failed_deliveries": _failed_deliveries(start, end),
    }
