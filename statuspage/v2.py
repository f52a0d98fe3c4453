"""Atlassian Statuspage public v2 shapes (summary.json, components.json, incidents.json, ...).

Field names and values follow https://metastatuspage.com/api/v2/ so widgets and tools written
for Statuspage read Vigil unchanged. Ids are strings there; groups get a "g" prefix because
Statuspage lists groups and components in one id space.
"""

from datetime import UTC, datetime

from django.conf import settings
from django.utils import timezone

from statuspage.markup import render_markdown
from statuspage.models import Component, ComponentGroup, Incident, Maintenance, MaintenanceStatus
from statuspage.queries import PageState, overall_status, worst_status

PAGE_ID = "vigil"
# Statuspage has no cancelled maintenance: its clients know scheduled, in_progress, verifying and
# completed. A cancelled window reads as completed there (resolved when it was called off), and
# `cancelled_at`, a field of Vigil's own that those clients ignore, says which it was.
STATUSPAGE_MAINTENANCE_STATUS = {MaintenanceStatus.CANCELLED: MaintenanceStatus.COMPLETED}


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def page(updated_at: datetime | None = None) -> dict:
    return {
        "id": PAGE_ID,
        "name": settings.SITE_NAME,
        "url": settings.PUBLIC_URL,
        "time_zone": "Etc/UTC",
        "updated_at": iso(updated_at or timezone.now()),
    }


def component(c: Component) -> dict:
    return {
        "id": str(c.pk),
        "name": c.name,
        "status": c.status,
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
        "position": c.position,
        "description": c.description or None,
        "showcase": c.show_uptime,
        "start_date": c.created_at.date().isoformat(),
        "group_id": f"g{c.group_id}" if c.group_id else None,
        "page_id": PAGE_ID,
        "group": False,
        "only_show_if_degraded": False,
    }


def group(g: ComponentGroup, members: list[Component]) -> dict:
    return {
        "id": f"g{g.pk}",
        "name": g.name,
        "status": worst_status(c.status for c in members),
        "created_at": iso(min(c.created_at for c in members)),
        "updated_at": iso(max(c.updated_at for c in members)),
        "position": g.position,
        "description": g.description or None,
        "showcase": False,
        "start_date": None,
        "group_id": None,
        "page_id": PAGE_ID,
        "group": True,
        "only_show_if_degraded": False,
        "components": [str(c.pk) for c in members],
    }


def components(state: PageState) -> list[dict]:
    out = []
    for section in state.sections:
        if section.group is not None:
            out.append(group(section.group, section.components))
        out.extend(component(c) for c in section.components)
    return out


def _update(u, parent_key: str, parent_id: int) -> dict:
    return {
        "id": str(u.pk),
        "status": STATUSPAGE_MAINTENANCE_STATUS.get(u.status, u.status),
        "body": u.body,
        # Not in Statuspage's shape: the body's Markdown rendered and sanitised, as the page shows it.
        "body_html": str(render_markdown(u.body)),
        parent_key: str(parent_id),
        "created_at": iso(u.created_at),
        "updated_at": iso(u.created_at),
        "display_at": iso(u.display_at),
        "affected_components": getattr(u, "affected_components", None) or None,
        "deliver_notifications": u.notify,
        "custom_tweet": None,
        "tweet_id": None,
    }


def shortlink(path: str) -> str:
    return f"{settings.PUBLIC_URL}{path}"


def incident(i: Incident) -> dict:
    return {
        "id": str(i.pk),
        "name": i.title,
        "status": i.status,
        "created_at": iso(i.created_at),
        "updated_at": iso(i.updated_at),
        "monitoring_at": iso(i.monitoring_at),
        "resolved_at": iso(i.resolved_at),
        "impact": i.effective_impact,
        "shortlink": shortlink(i.get_absolute_url()),
        "started_at": iso(i.started_at),
        "page_id": PAGE_ID,
        "incident_updates": [_update(u, "incident_id", i.pk) for u in i.updates.all()],
        "components": [component(row.component) for row in i.affected.all()],
        "postmortem_body": i.postmortem_body or None,
        "postmortem_body_html": str(render_markdown(i.postmortem_body)) or None,
        "postmortem_published_at": iso(i.postmortem_published_at),
    }


def maintenance(m: Maintenance) -> dict:
    return {
        "id": str(m.pk),
        "name": m.title,
        "status": STATUSPAGE_MAINTENANCE_STATUS.get(m.status, m.status),
        "created_at": iso(m.created_at),
        "updated_at": iso(m.updated_at),
        "monitoring_at": None,
        "resolved_at": iso(m.completed_at or m.cancelled_at),
        "impact": "maintenance",
        "shortlink": shortlink(m.get_absolute_url()),
        "started_at": iso(m.started_at or m.scheduled_for),
        "page_id": PAGE_ID,
        "incident_updates": [_update(u, "incident_id", m.pk) for u in m.updates.all()],
        "components": [component(c) for c in m.components.all()],
        "scheduled_for": iso(m.scheduled_for),
        "scheduled_until": iso(m.scheduled_until),
        "cancelled_at": iso(m.cancelled_at),
    }


def status(state: PageState) -> dict:
    overall = state.overall or overall_status(state.components, state.open_incidents)
    return {"indicator": overall.indicator, "description": overall.description}


def summary(state: PageState) -> dict:
    return {
        "page": page(),
        "components": components(state),
        "incidents": [incident(i) for i in state.open_incidents],
        "scheduled_maintenances": [
            maintenance(m) for m in state.active_maintenance + state.upcoming_maintenance
        ],
        "status": status(state),
    }
