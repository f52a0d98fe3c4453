"""Read side: load what a page shows in a fixed number of queries, whatever the row counts.

The overall indicator and its sentence are derived here from the components and the open
incidents, never stored.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import F, Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from statuspage import uptime
from statuspage.models import (
    IMPACT_OF_STATUS,
    IMPACT_RANK,
    Component,
    ComponentGroup,
    ComponentStatus,
    Impact,
    Incident,
    IncidentComponent,
    IncidentUpdate,
    Maintenance,
    MaintenanceUpdate,
    worst_status,
)

DESCRIPTIONS = {
    Impact.NONE: gettext_noop("All Systems Operational"),
    Impact.MINOR: gettext_noop("Minor Service Outage"),
    Impact.MAJOR: gettext_noop("Partial System Outage"),
    Impact.CRITICAL: gettext_noop("Major System Outage"),
}
MAINTENANCE_DESCRIPTION = gettext_noop("Service Under Maintenance")
PAST_DAYS_ON_HOME = 7


@dataclass
class Overall:
    indicator: str
    description: str


@dataclass
class Section:
    """One block of the page: a group with its components, or a lone component."""

    group: ComponentGroup | None
    components: list[Component]

    @property
    def status(self) -> str:
        return worst_status(c.status for c in self.components)

    @property
    def name(self) -> str:
        return self.group.name if self.group else self.components[0].name


@dataclass
class PageState:
    now: datetime
    components: list[Component]
    sections: list[Section]
    open_incidents: list[Incident]
    active_maintenance: list[Maintenance]
    upcoming_maintenance: list[Maintenance]
    overall: Overall
    uptime: dict = field(default_factory=dict)
    past_incidents: list[Incident] = field(default_factory=list)


def overall_status(components, open_incidents, active_maintenance=()) -> Overall:
    impacts = [IMPACT_OF_STATUS[c.status] for c in components]
    impacts += [i.effective_impact for i in open_incidents]
    indicator = max(impacts, key=lambda i: IMPACT_RANK[i], default=Impact.NONE)
    if indicator == Impact.NONE and (
        active_maintenance or any(c.status == ComponentStatus.UNDER_MAINTENANCE for c in components)
    ):
        return Overall(Impact.NONE, MAINTENANCE_DESCRIPTION)
    return Overall(indicator, DESCRIPTIONS[indicator])


def components_in_order() -> list[Component]:
    return list(
        Component.objects.select_related("group").order_by(
            F("group__position").asc(nulls_last=True), "group__name", "position", "name"
        )
    )


def sections_of(components: list[Component]) -> list[Section]:
    sections: list[Section] = []
    by_group: dict[int, Section] = {}
    for component in components:
        if component.group_id is None:
            sections.append(Section(None, [component]))
        elif component.group_id in by_group:
            by_group[component.group_id].components.append(component)
        else:
            by_group[component.group_id] = Section(component.group, [component])
            sections.append(by_group[component.group_id])
    return sections


def with_details(incidents: QuerySet) -> QuerySet:
    return incidents.select_related(None).prefetch_related(
        Prefetch("updates", queryset=IncidentUpdate.objects.order_by("-display_at", "-id")),
        Prefetch("affected", queryset=IncidentComponent.objects.select_related("component__group")),
    )


def maintenance_with_details(maintenance: QuerySet) -> QuerySet:
    return maintenance.prefetch_related(
        Prefetch("updates", queryset=MaintenanceUpdate.objects.order_by("-display_at", "-id")),
        Prefetch("components", queryset=Component.objects.select_related("group")),
    )


def page_state(*, now: datetime | None = None, with_uptime: bool = True, past_days: int = 0) -> PageState:
    now = now or timezone.now()
    components = components_in_order()
    open_incidents = list(with_details(Incident.objects.unresolved()))
    maintenance = list(
        maintenance_with_details(
            Maintenance.objects.filter(status__in=["scheduled", "in_progress", "verifying"]).order_by(
                "scheduled_for"
            )
        )
    )
    active = [m for m in maintenance if m.is_active]
    upcoming = [m for m in maintenance if not m.is_active]
    state = PageState(
        now=now,
        components=components,
        sections=sections_of(components),
        open_incidents=open_incidents,
        active_maintenance=active,
        upcoming_maintenance=upcoming,
        overall=overall_status(components, open_incidents, active),
    )
    if with_uptime:
        state.uptime = uptime.figures_for([c for c in components if c.show_uptime], now=now)
    if past_days:
        # Open ones too: the day an incident started lists it, even while it is still open.
        state.past_incidents = list(
            with_details(Incident.objects.filter(started_at__gte=now - timedelta(days=past_days)))
        )
    return state
