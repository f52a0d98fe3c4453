"""The dashboard's data: one function builds it for the admin index and for
GET /api/operations/dashboard.

Each panel is a function in PANELS, so a panel is added (or replaced) in one place. Every
panel costs a fixed number of queries whatever the row counts: lists are cut to PANEL_LIMIT
rows and counted with one aggregate; the status panel reads statuspage's page state (a fixed
number of queries with prefetches).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property

from django.db.models import Case, Count, FloatField, Sum, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert
from alerts.response_times import WINDOWS, response_times_windows
from backups.services import backup_status
from healthchecks.models import Probe
from monitoring.aggregates import EpochBucket
from monitoring.models import Metric
from monitoring.queries import SeriesFilter, floor_time, metric_buckets
from notifications.models import SEVERITY_RANK, Delivery
from notifications.models import Severity as DeliverySeverity
from oncall.models import Schedule
from oncall.queries import on_call_board
from reports.models import ServiceLevelObjective
from reports.slo import slo_status
from statuspage import queries as status_queries
from statuspage.visitor_reports import OTHER as VISITOR_REPORTS_OTHER
from statuspage.visitor_reports import visitor_report_counts_last

PANEL_LIMIT = 20
CHART_HOURS = 24
CHART_INTERVAL = "1h"
CHART_SECONDS = 3600
VISITOR_REPORTS_MINUTES = 60
# Most severe first.
SEVERITY_ORDER = sorted(DeliverySeverity.values, key=lambda s: -SEVERITY_RANK[s])


@dataclass
class Context:
    """What the panels share for one build: the time, and the status page's state read once."""

    now: datetime

    @cached_property
    def page_state(self) -> status_queries.PageState:
        return status_queries.page_state(now=self.now, with_uptime=False)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _admin(name: str, *args) -> str:
    return reverse(f"admin:{name}", args=args)


# --- panels -----------------------------------------------------------------------------------


def status_panel(ctx: Context) -> dict:
    state = ctx.page_state
    return {
        "indicator": state.overall.indicator,
        "description": state.overall.description,
        "components_not_operational": [
            {
                "id": c.pk,
                "name": c.name,
                "status": c.status,
                "status_display": c.get_status_display(),
                "admin_url": _admin("statuspage_component_change", c.pk),
            }
            for c in state.components
            if c.status != "operational"
        ],
        "components_total": len(state.components),
    }


def alerts_panel(ctx: Context) -> dict:
    open_alerts = Alert.objects.open()
    counts = {severity: {"firing": 0, "acknowledged": 0} for severity in SEVERITY_ORDER}
    for row in open_alerts.values("severity", "status").annotate(n=Count("id")).order_by():
        counts.setdefault(row["severity"], {"firing": 0, "acknowledged": 0})[row["status"]] = row["n"]
    # Most urgent first: firing before acknowledged, then by severity, newest first.
    rank = Case(
        *[When(severity=severity, then=Value(i)) for i, severity in enumerate(SEVERITY_ORDER)],
        default=Value(len(SEVERITY_ORDER)),
    )
    rows = (
        open_alerts.select_related("acknowledged_by")
        .annotate(acknowledged=Case(When(status="firing", then=Value(0)), default=Value(1)), rank=rank)
        .order_by("acknowledged", "rank", "-last_fired_at")[:PANEL_LIMIT]
    )
    return {
        "by_severity": counts,
        "open_total": sum(c["firing"] + c["acknowledged"] for c in counts.values()),
        "items": [
            {
                "id": a.pk,
                "title": a.title,
                "severity": a.severity,
                "status": a.status,
                "occurrences": a.occurrence_count,
                "fired_at": _iso(a.fired_at),
                "last_fired_at": _iso(a.last_fired_at),
                "acknowledged_by": a.acknowledged_by.get_username() if a.acknowledged_by else None,
                "admin_url": _admin("alerts_alert_change", a.pk),
            }
            for a in rows
        ],
    }


def incidents_panel(ctx: Context) -> dict:
    incidents = ctx.page_state.open_incidents
    return {
        "open_total": len(incidents),
        "items": [
            {
                "id": i.pk,
                "title": i.title,
                "status": i.status,
                "impact": i.effective_impact,
                "started_at": _iso(i.started_at),
                "last_update": (i.updates.all()[0].body[:200] if i.updates.all() else ""),
                "admin_url": _admin("statuspage_incident_change", i.pk),
            }
            for i in incidents[:PANEL_LIMIT]
        ],
    }


def _maintenance_item(m) -> dict:
    return {
        "id": m.pk,
        "title": m.title,
        "status": m.status,
        "scheduled_for": _iso(m.scheduled_for),
        "scheduled_until": _iso(m.scheduled_until),
        "components": [c.name for c in m.components.all()],
        "admin_url": _admin("statuspage_maintenance_change", m.pk),
    }


def maintenance_panel(ctx: Context) -> dict:
    state = ctx.page_state
    return {
        "in_progress": [_maintenance_item(m) for m in state.active_maintenance[:PANEL_LIMIT]],
        "upcoming": [_maintenance_item(m) for m in state.upcoming_maintenance[:PANEL_LIMIT]],
    }


def deliveries_panel(ctx: Context) -> dict:
    failed = Delivery.objects.filter(status=Delivery.Status.FAILED)
    since = ctx.now - timedelta(hours=24)
    rows = failed.select_related("message", "channel").order_by("-id")[:PANEL_LIMIT]
    return {
        "failed_last_24h": failed.filter(updated_at__gte=since).count(),
        "changelist_url": _admin("notifications_delivery_changelist") + "?status__exact=failed",
        "items": [
            {
                "id": d.pk,
                "kind": d.kind,
                "recipient": d.recipient_display(),
                "subject": d.message.subject,
                "attempts": d.attempts,
                "last_error": d.last_error[:200],
                "updated_at": _iso(d.updated_at),
                "admin_url": _admin("notifications_delivery_change", d.pk),
            }
            for d in rows
        ],
    }


def probes_panel(ctx: Context) -> dict:
    """Enabled probes whose last run failed, most recent first."""
    failing = Probe.objects.filter(enabled=True, last_ok=False).select_related("component")
    return {
        "failing": [
            {
                "id": probe.pk,
                "name": probe.component.name,
                "error": probe.last_error or f"HTTP {probe.last_status_code}",
                "admin_url": _admin("healthchecks_probe_change", probe.pk),
            }
            for probe in failing.order_by("-last_checked_at")[:PANEL_LIMIT]
        ],
    }


def oncall_panel(ctx: Context) -> dict:
    """Who is on call now and next in each schedule (the first PANEL_LIMIT by name), gaps flagged:
    the same answer as GET /api/operations/oncall, from a fixed number of queries."""
    schedules = list(Schedule.objects.order_by("name")[:PANEL_LIMIT])
    board = on_call_board(schedules, ctx.now)
    items = []
    for row in board:
        gap = row["next_gap"]
        items.append(
            {
                "id": row["id"],
                "name": row["name"],
                "time_zone": row["time_zone"],
                "now": row["now"]["user"] and row["now"]["user"]["username"],
                "until": _iso(row["now"]["until"]),
                "next": row["next"] and row["next"]["user"]["username"],
                "next_starts_at": _iso(row["next"] and row["next"]["starts_at"]),
                "gap_now": row["now"]["user"] is None,
                "next_gap_starts_at": _iso(gap and gap["starts_at"]),
                "next_gap_ends_at": _iso(gap and gap["ends_at"]),
                "admin_url": _admin("oncall_schedule_change", row["id"]),
            }
        )
    return {
        "schedules_total": Schedule.objects.count() if len(schedules) == PANEL_LIMIT else len(schedules),
        "gaps_now": sum(item["gap_now"] for item in items),
        "changelist_url": _admin("oncall_schedule_changelist"),
        "items": items,
    }


def service_levels_panel(ctx: Context) -> dict:
    """The objectives (the first PANEL_LIMIT by name) with their attainment and budget left, and
    the age of the last verified backup: the reports' and backups' own figures."""
    objectives = ServiceLevelObjective.objects.select_related("component", "group").order_by("name", "pk")
    items = []
    for slo in objectives[:PANEL_LIMIT]:
        figures = slo_status(slo, now=ctx.now)
        items.append(
            {
                "id": slo.pk,
                "name": slo.name,
                "target_percentage": figures["target_percentage"],
                "attained_percentage": figures["attained_percentage"],
                "met": figures["met"],
                "budget_remaining_percentage": figures["error_budget_remaining_percentage"],
                "fast_burn": bool(figures["fast_burn"]),
                "admin_url": _admin("reports_servicelevelobjective_change", slo.pk),
            }
        )
    backups = backup_status(now=ctx.now)
    return {
        "objectives": items,
        "backup": {
            "last_verified_at": _iso(backups["last_verified_backup_at"]),
            "age_seconds": backups["age_seconds"],
            "max_age_hours": backups["max_age_hours"],
            "fresh": backups["fresh"],
            "changelist_url": _admin("backups_backup_changelist"),
        },
    }


def visitor_reports_panel(ctx: Context) -> dict:
    """Visitors' "having trouble" reports over the last hour, per component, most first, with the
    component's status now (reports about a component shown operational are the ones to look at).
    Counted from the flushed counter rows: a web process's last METRIC_COLLECTION_INTERVAL may
    not be in yet."""
    counts = visitor_report_counts_last(minutes=VISITOR_REPORTS_MINUTES, now=ctx.now)
    components = {str(c.pk): c for c in ctx.page_state.components}
    items = []
    for label, reports in counts.items():
        component = components.get(label)
        if label == VISITOR_REPORTS_OTHER:
            items.append({"component_id": None, "name": "Something else", "status": None, "reports": reports})
        elif component is not None:
            items.append(
                {
                    "component_id": component.pk,
                    "name": component.name,
                    "status": component.status,
                    "reports": reports,
                    "admin_url": _admin("statuspage_component_change", component.pk),
                }
            )
    items.sort(key=lambda item: (-item["reports"], item["name"]))
    return {
        "window_minutes": VISITOR_REPORTS_MINUTES,
        "total": sum(item["reports"] for item in items),
        "items": items[:PANEL_LIMIT],
    }


def response_times_panel(ctx: Context) -> dict:
    """MTTA and MTTR per severity over each window (alerts.response_times, the API's figures)."""
    windows = response_times_windows(WINDOWS, now=ctx.now)
    return {f"{days}d": figures["by_severity"] for days, figures in windows.items()}


def _series(buckets, value: Callable, since: datetime) -> list[dict]:
    by_start = {b.start: b for b in buckets}
    points = []
    for i in range(CHART_HOURS):
        start = since + timedelta(seconds=CHART_SECONDS * i)
        bucket = by_start.get(start)
        points.append({"start": _iso(start), "value": value(bucket) if bucket else None})
    return points


def error_rate_series(since: datetime, until: datetime) -> list:
    """Errors / requests per hour, from request timing rows (their tags carry the counts)."""
    rows = (
        Metric.objects.filter(name="http.server.duration", timestamp__gte=since, timestamp__lt=until)
        .values(bucket=EpochBucket("timestamp", CHART_SECONDS))
        .annotate(
            requests=Sum(Cast(KeyTextTransform("count", "tags"), FloatField())),
            errors=Sum(Cast(KeyTextTransform("errors", "tags"), FloatField())),
        )
        .order_by("bucket")
    )
    return [
        (
            datetime.fromtimestamp(r["bucket"], tz=UTC),
            100.0 * (r["errors"] or 0) / r["requests"] if r["requests"] else None,
        )
        for r in rows
    ]


CHARTS = [
    # key, title, unit, metric name, which bucket figure
    ("cpu", "CPU", "%", "system.cpu_percent", lambda b: b.avg),
    ("memory", "Memory", "%", "system.memory_percent", lambda b: b.avg),
    ("response_time_p95", "Response time p95", "ms", "http.server.duration", lambda b: b.p95),
]


def charts_panel(ctx: Context) -> dict:
    until = floor_time(ctx.now, CHART_SECONDS) + timedelta(seconds=CHART_SECONDS)
    since = until - timedelta(hours=CHART_HOURS)
    charts = {}
    for key, title, unit, name, figure in CHARTS:
        result = metric_buckets(
            SeriesFilter(name=name), since=since, until=until - timedelta(seconds=1), interval=CHART_INTERVAL
        )
        charts[key] = {"title": title, "unit": unit, "points": _series(result.buckets, figure, since)}
    by_start = dict(error_rate_series(since, until))
    charts["error_rate"] = {
        "title": "Error rate",
        "unit": "%",
        "points": [
            {"start": _iso(start), "value": by_start.get(start)}
            for start in (since + timedelta(seconds=CHART_SECONDS * i) for i in range(CHART_HOURS))
        ],
    }
    return {"since": _iso(since), "until": _iso(until), "interval": CHART_INTERVAL, "charts": charts}


# The dashboard, in display order. Add a panel here.
PANELS: list[tuple[str, Callable[[Context], dict]]] = [
    ("status", status_panel),
    ("alerts", alerts_panel),
    ("incidents", incidents_panel),
    ("maintenance", maintenance_panel),
    ("oncall", oncall_panel),
    ("response_times", response_times_panel),
    ("service_levels", service_levels_panel),
    ("visitor_reports", visitor_reports_panel),
    ("probes", probes_panel),
    ("deliveries", deliveries_panel),
    ("charts", charts_panel),
]


def dashboard_data(*, now: datetime | None = None) -> dict:
    ctx = Context(now=now or timezone.now())
    data: dict = {"generated_at": _iso(ctx.now)}
    for name, panel in PANELS:
        data[name] = panel(ctx)
    return data
