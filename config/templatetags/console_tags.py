from datetime import datetime

from django import template
from django.conf import settings
from django.db import models
from django.utils import formats, timezone

from alerts.models import Alert
from config.charts import svg_chart
from config.console import DASHBOARD_PERMISSIONS
from config.dashboard import dashboard_data
from config.runtime_config import config_get
from notifications.models import Severity
from statuspage.models import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus

register = template.Library()

# The dashboard's data carries the API's values (in_progress); people read the choices' labels.
CHOICES: dict[str, type[models.TextChoices]] = {
    "alert": Alert.Status,
    "severity": Severity,
    "incident": IncidentStatus,
    "impact": Impact,
    "maintenance": MaintenanceStatus,
    "component_status": ComponentStatus,
}


@register.filter
def label(value: str, kind: str) -> str:
    """The display label of a value of one vocabulary: {{ m.status|label:"maintenance" }}."""
    try:
        return CHOICES[kind](value).label
    except ValueError:
        return value


def chart_thresholds() -> dict[str, float]:
    row = config_get()
    return {
        "cpu": row.cpu_usage_threshold_percent,
        "memory": row.memory_usage_threshold_percent,
        "response_time_p95": row.response_time_threshold_ms,
        "error_rate": row.error_rate_threshold_percent,
    }


@register.filter
def when(value: str | None) -> str:
    """An ISO timestamp from the dashboard data, in the admin's one date-time format
    (config/formats): 2026-11-24 04:25 UTC."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


@register.simple_tag(takes_context=True)
def vigil_dashboard(context) -> dict | None:
    """The dashboard's data plus its charts as SVG; None for staff without the view permissions."""
    user = context["request"].user
    if not user.has_perms(DASHBOARD_PERMISSIONS):
        return None
    data = dashboard_data()
    thresholds = chart_thresholds()
    data["svg"] = [
        {
            "title": chart["title"],
            "unit": chart["unit"],
            "svg": svg_chart(
                chart["points"], title=chart["title"], unit=chart["unit"], threshold=thresholds.get(key)
            ),
        }
        for key, chart in data["charts"]["charts"].items()
    ]
    data["incident_statuses"] = [c for c in IncidentStatus.choices if c[0] != IncidentStatus.POSTMORTEM]
    data["refresh_seconds"] = settings.DASHBOARD_REFRESH_SECONDS
    data["can"] = {
        "alerts": user.has_perm("alerts.change_alert"),
        "incidents": user.has_perm("statuspage.change_incident"),
        "maintenance": user.has_perm("statuspage.change_maintenance"),
    }
    return data


@register.filter
def get(mapping: dict, key: str):
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.filter
def seconds(value: float | None) -> str:
    """A duration in seconds, short: 45 s, 12 min, 3.5 h, 2.1 d; a dash for none."""
    if value is None:
        return "—"
    if value < 60:
        return f"{value:.0f} s"
    if value < 3600:
        return f"{value / 60:.0f} min"
    if value < 86400:
        return f"{value / 3600:.1f} h"
    return f"{value / 86400:.1f} d"
