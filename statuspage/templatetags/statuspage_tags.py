"""Small formatting helpers for the public templates."""

from datetime import UTC, datetime

from django import template
from django.utils.dateformat import format as date_format
from django.utils.html import format_html

from statuspage.models import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus

register = template.Library()

LEVEL_OF_STATUS = {
    ComponentStatus.OPERATIONAL: "operational",
    ComponentStatus.DEGRADED_PERFORMANCE: "degraded",
    ComponentStatus.PARTIAL_OUTAGE: "partial",
    ComponentStatus.MAJOR_OUTAGE: "major",
    ComponentStatus.UNDER_MAINTENANCE: "maintenance",
}
LEVEL_OF_IMPACT = {
    Impact.NONE: "none",
    Impact.MINOR: "degraded",
    Impact.MAJOR: "partial",
    Impact.CRITICAL: "major",
}


@register.filter
def status_level(status: str) -> str:
    return LEVEL_OF_STATUS.get(status, "none")


@register.filter
def impact_level(impact: str) -> str:
    return LEVEL_OF_IMPACT.get(impact, "none")


@register.filter
def status_label(status: str) -> str:
    for choices in (ComponentStatus, IncidentStatus, MaintenanceStatus, Impact):
        if status in choices.values:
            return choices(status).label
    return status


@register.filter
def duration(seconds: float) -> str:
    minutes = round((seconds or 0) / 60)
    if minutes < 1:
        return "under a minute"
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"


@register.filter
def percent(value: float | None) -> str:
    if value is None:
        return "no data"
    return f"{value:.2f} %"


@register.simple_tag
def utc_time(value: datetime | None, fmt: str = "M j, H:i") -> str:
    """A <time> in UTC, marked so; status.js rewrites it into the visitor's zone when it runs."""
    if value is None:
        return ""

    value = value.astimezone(UTC)
    return format_html(
        '<time datetime="{}" data-local>{} UTC</time>',
        value.isoformat(timespec="seconds").replace("+00:00", "Z"),
        date_format(value, fmt),
    )


@register.filter
def day_summary(figure) -> str:
    """One bar's text: read by screen readers (aria-label) and shown on hover and focus by CSS
    (content: attr(aria-label)), so it is written once per bar; lines are split by newlines."""
    lines = [date_format(figure.day, "M j, Y")]
    if figure.uptime is None:
        lines.append("No data recorded.")
        return "\n".join(lines)
    lines.append(f"{figure.uptime_percent:.2f} % uptime")
    for label, seconds in (
        ("Major outage", figure.major_outage_seconds),
        ("Partial outage", figure.partial_outage_seconds),
        ("Degraded performance", figure.degraded_seconds),
        ("Maintenance", figure.maintenance_seconds),
    ):
        if seconds:
            lines.append(f"{label}: {duration(seconds)}")
    if figure.level == "operational":
        lines.append("No downtime recorded.")
    return "\n".join(lines)
