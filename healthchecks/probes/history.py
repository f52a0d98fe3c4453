"""Read side of probes: every service's current health, one service's history and uptime."""

from datetime import datetime, timedelta

from django.db.models import Avg, Count, Max, Q
from django.utils import timezone
from django.utils.text import slugify

from healthchecks.models import Probe, ProbeResult
from statuspage.models import Component, ComponentStatus, ComponentStatusChange, worst_status
from statuspage.uptime import WEIGHTS


def component_by_service(service: str) -> Component | None:
    """A component by id or by the slug of its name (components have no slug column)."""
    if service.isascii() and service.isdigit():  # "²".isdigit() is true too; int() refuses it
        return Component.objects.prefetch_related("probes").filter(pk=int(service)).first()
    wanted = slugify(service)
    for component in Component.objects.prefetch_related("probes").order_by("pk"):
        if slugify(component.name) == wanted:
            return component
    return None


def probe_state(probe: Probe | None) -> dict | None:
    if probe is None:
        return None
    return {
        "id": probe.pk,
        "kind": probe.kind,
        "enabled": probe.enabled,
        "url": probe.component.health_check_url,
        "interval_seconds": probe.interval_seconds,
        "last_checked_at": probe.last_checked_at,
        "last_ok": probe.last_ok,
        "last_status_code": probe.last_status_code,
        "last_latency_ms": probe.last_latency_ms,
        "last_error": probe.last_error,
        "consecutive_failures": probe.consecutive_failures,
        "consecutive_successes": probe.consecutive_successes,
        "down": probe.is_down,
        "manual_hold_until": probe.manual_hold_until,
        "certificate": (
            {
                "expires_at": probe.cert_expires_at,
                "days_left": probe.cert_days_left,
                "checked_at": probe.cert_checked_at,
                "error": probe.cert_error,
            }
            if probe.cert_checked_at
            else None
        ),
    }


def service_state(component: Component) -> dict:
    return {
        "id": component.pk,
        "name": component.name,
        "slug": slugify(component.name),
        "status": component.status,
        "status_source": component.status_source,
        "status_changed_at": component.status_changed_at,
        # The HTTP probe (or the first), as before several kinds; `probes` has them all.
        "probe": probe_state(_main_probe(component)),
        "probes": [probe_state(probe) for probe in component.probes.all()],
    }


def _main_probe(component: Component) -> Probe | None:
    probes = sorted(component.probes.all(), key=lambda p: (p.kind != Probe.Kind.HTTP, p.pk))
    return probes[0] if probes else None


def system_status() -> dict:
    components = list(
        Component.objects.select_related("group").prefetch_related("probes").order_by("position", "name")
    )
    by_status = {status: 0 for status in ComponentStatus.values}
    for component in components:
        by_status[component.status] += 1
    return {
        "status": worst_status([c.status for c in components]),
        "checked_at": timezone.now(),
        "summary": {
            "components": len(components),
            "probed": sum(1 for c in components if any(p.enabled for p in c.probes.all())),
            "probes_down": sum(1 for c in components if any(p.is_down for p in c.probes.all())),
            "by_status": by_status,
        },
        "services": [service_state(c) for c in components],
    }


def uptime_percent(component: Component, since: datetime, now: datetime) -> float | None:
    """The status page's formula over [since, now]: 1 − (major + 0.3 × partial) ÷ observed."""
    start = max(since, component.created_at)
    if start >= now:
        return None
    before = (
        ComponentStatusChange.objects.filter(component=component, at__lt=start).order_by("-at", "-id").first()
    )
    changes = list(
        ComponentStatusChange.objects.filter(component=component, at__gte=start, at__lt=now).order_by(
            "at", "id"
        )
    )
    if before is not None:
        status = before.to_status
    elif changes:
        status = changes[0].from_status
    else:
        status = component.status
    down, cursor = 0.0, start
    for change in changes:
        down += WEIGHTS.get(status, 0.0) * (change.at - cursor).total_seconds()
        status, cursor = change.to_status, change.at
    down += WEIGHTS.get(status, 0.0) * (now - cursor).total_seconds()
    return round(100 * (1 - down / (now - start).total_seconds()), 3)


def _p95(values: list[float]) -> float | None:
    if not values:
        return None
    values.sort()
    return round(values[min(len(values) - 1, int(0.95 * len(values)))], 2)


def service_history(component: Component, *, hours: int, limit: int, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    since = now - timedelta(hours=hours)
    body = {
        "service": service_state(component),
        "hours": hours,
        "since": since,
        "until": now,
        "uptime_percent": uptime_percent(component, since, now),
        "status_changes": [
            {
                "at": change.at,
                "from_status": change.from_status,
                "to_status": change.to_status,
                "source": change.source,
                "note": change.note,
            }
            for change in ComponentStatusChange.objects.filter(component=component, at__gte=since).order_by(
                "at"
            )[:500]
        ],
        "checks": {"total": 0, "failed": 0, "slow": 0, "availability_percent": None, "latency_ms": None},
        "results": [],
    }
    if not component.probes.all():
        return body
    window = ProbeResult.objects.filter(probe__component=component, checked_at__gte=since)
    figures = window.aggregate(
        total=Count("pk"),
        failed=Count("pk", filter=Q(ok=False)),
        slow=Count("pk", filter=Q(slow=True)),
        average=Avg("latency_ms", filter=Q(ok=True)),
        maximum=Max("latency_ms", filter=Q(ok=True)),
    )
    total = figures["total"]
    latencies = list(window.filter(ok=True, latency_ms__isnull=False).values_list("latency_ms", flat=True))
    body["checks"] = {
        "total": total,
        "failed": figures["failed"],
        "slow": figures["slow"],
        "availability_percent": round(100 * (total - figures["failed"]) / total, 3) if total else None,
        "latency_ms": {
            "avg": None if figures["average"] is None else round(figures["average"], 2),
            "p95": _p95(latencies),
            "max": figures["maximum"],
        },
    }
    body["results"] = [
        {
            "probe": r.probe_id,
            "checked_at": r.checked_at,
            "ok": r.ok,
            "slow": r.slow,
            "status_code": r.status_code,
            "latency_ms": r.latency_ms,
            "error": r.error,
        }
        for r in window.order_by("-checked_at", "-id")[:limit]
    ]
    return body
