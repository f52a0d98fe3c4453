"""Every write to the status page goes through these functions; the admin and the API call them.

Each status change writes its ComponentStatusChange row and refreshes the component's uptime day
in the same transaction, and after commit bumps the page cache's generation (`_after_commit`),
which is also the one place where the notification fan-out is attached.
"""

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.cache import count_in_window
from core.datetimes import to_utc
from monitoring.counters import counter_add
from statuspage import branding_checks, publish, uptime, visitor_reports
from statuspage import cache as page_cache
from statuspage.announce import announce, maintenance_notifies
from statuspage.models import (
    ACTIVE_MAINTENANCE_STATUSES,
    IMPACT_OF_STATUS,
    IMPACT_RANK,
    OPEN_INCIDENT_STATUSES,
    Component,
    ComponentStatus,
    ComponentStatusChange,
    Impact,
    Incident,
    IncidentComponent,
    IncidentStatus,
    IncidentTemplate,
    IncidentTemplateComponent,
    IncidentUpdate,
    Maintenance,
    MaintenanceStatus,
    MaintenanceUpdate,
    StatusHold,
    StatusPageBranding,
    StatusSource,
    worst_status,
)


class StatusPageError(Exception):
    """A request the current state does not allow (the API answers 409, the admin shows it)."""


class IllegalTransition(StatusPageError):
    pass


class InvalidWindow(StatusPageError, ValueError):
    """A maintenance window that cannot be scheduled as given (a ValueError, as bad input is).
    `field` names the input it is about."""

    field = "scheduled_until"


def maintenance_window_check(
    *, scheduled_for: datetime, scheduled_until: datetime, record_history: bool = False, now=None
) -> None:
    """The rules of a window, for the service, the API and the admin form alike.

    Compared in UTC: two times in one local zone compare by wall clock, which gets the hour
    the clocks go back wrong. A window that is already over would be started and completed at
    the next beat, mailing every subscriber twice about the past: it is taken only as history
    (record_history), stored completed and announced to nobody."""
    start, end = to_utc(scheduled_for), to_utc(scheduled_until)
    if end <= start:
        raise InvalidWindow("scheduled_until must be after scheduled_for.")
    ended = end <= to_utc(now or timezone.now())
    if ended and not record_history:
        raise InvalidWindow(
            "This window has already ended. To record maintenance that happened in the past, "
            "set record_history: it is stored as completed and nobody is mailed."
        )
    if record_history and not ended:
        raise InvalidWindow("Only a window that has already ended can be recorded as history.")


# Open incidents move freely between the open states and may resolve; a resolved incident only
# gains a postmortem (reopening would rewrite history the public already saw: open a new one).
INCIDENT_TRANSITIONS: dict[str, set[str]] = {
    **{state: {*OPEN_INCIDENT_STATUSES, IncidentStatus.RESOLVED} for state in OPEN_INCIDENT_STATUSES},
    IncidentStatus.RESOLVED: {IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM},
    IncidentStatus.POSTMORTEM: {IncidentStatus.POSTMORTEM},
}
# A window that has not ended may be cancelled; a completed or cancelled one is history.
MAINTENANCE_TRANSITIONS: dict[str, set[str]] = {
    MaintenanceStatus.SCHEDULED: {
        MaintenanceStatus.SCHEDULED,
        MaintenanceStatus.IN_PROGRESS,
        MaintenanceStatus.CANCELLED,
    },
    MaintenanceStatus.IN_PROGRESS: {
        MaintenanceStatus.IN_PROGRESS,
        MaintenanceStatus.VERIFYING,
        MaintenanceStatus.COMPLETED,
        MaintenanceStatus.CANCELLED,
    },
    MaintenanceStatus.VERIFYING: {
        MaintenanceStatus.IN_PROGRESS,
        MaintenanceStatus.VERIFYING,
        MaintenanceStatus.COMPLETED,
        MaintenanceStatus.CANCELLED,
    },
    MaintenanceStatus.COMPLETED: set(),
    MaintenanceStatus.CANCELLED: set(),
}


def _after_commit(kind: str, obj) -> None:
    """Registers what follows a committed change: the page cache turns over at once, and the
    static copy is rewritten when one is configured.

    `kind` is "component" (a Component), "incident" (an edited Incident), "incident_update" (an
    IncidentUpdate), "postmortem" (an Incident), "maintenance" (an edited Maintenance) or
    "maintenance_update" (a MaintenanceUpdate); updates carry their `notify` flag.
    This is where the notification fan-out of updates is attached (an on_commit call here); a
    component's status change is announced where it is recorded, in _apply_status."""
    transaction.on_commit(page_cache.invalidate)
    publish.schedule_publish()
    # Subscriber mail: written in this transaction, sent after it commits.
    announce(kind, obj)


# --- components -------------------------------------------------------------------------


def _apply_status(
    component: Component, status: str, *, source: str, actor=None, at: datetime | None = None, note: str = ""
) -> bool:
    """Set a locked component's status and record the change. Returns whether it changed."""
    at = at or timezone.now()
    if component.status == status:
        if component.status_source != source:
            component.status_source = source
            component.save(update_fields=["status_source", "updated_at"])
        return False
    change = ComponentStatusChange.objects.create(
        component=component,
        from_status=component.status,
        to_status=status,
        at=at,
        source=source,
        actor=actor if getattr(actor, "pk", None) else None,
        note=note[:200],
    )
    component.status = status
    component.status_source = source
    component.status_changed_at = at
    component.save(update_fields=["status", "status_source", "status_changed_at", "updated_at"])
    uptime.component_uptime_refresh(component, since=at)
    # Webhook subscribers hear of every change (Statuspage's component_update), whichever
    # service made it; written in this transaction like every fan-out, sent after it commits.
    announce("component_status", change)
    return True


def _held_status(component: Component) -> tuple[str, str]:
    """What holds a component now: open incidents first (an outage the public must see beats a
    planned window), then maintenance in progress; otherwise it is operational."""
    declared = IncidentComponent.objects.filter(
        component=component, incident__status__in=OPEN_INCIDENT_STATUSES
    ).values_list("status", flat=True)
    declared = [s for s in declared if s != ComponentStatus.OPERATIONAL]
    if declared:
        return worst_status(declared), StatusSource.SYSTEM
    if component.maintenances.active().exists():
        return ComponentStatus.UNDER_MAINTENANCE, StatusSource.MAINTENANCE
    return ComponentStatus.OPERATIONAL, StatusSource.SYSTEM


def _restore(components: Iterable[Component], *, actor=None, at=None, note: str = "") -> None:
    locked = Component.objects.select_for_update().filter(pk__in=[c.pk for c in components]).order_by("pk")
    for component in locked:
        status, source = _held_status(component)
        _apply_status(component, status, source=source, actor=actor, at=at, note=note)


def component_status_hold(
    *, component: Component, manual_hold_until: datetime | None = None, now: datetime | None = None
) -> str | None:
    """What holds the component's status against probe results now (a StatusHold), or None.

    The one place these holds are decided. Staff hold it by hand with a timed hold (the probe
    keeps `manual_hold_until`) or with a standing non-operational manual status; an open incident
    holds it while it declares the component unhealthy, maintenance while it is in progress."""
    now = now or timezone.now()
    if manual_hold_until is not None and manual_hold_until > now:
        return StatusHold.MANUAL
    if component.status_source == StatusSource.MANUAL and component.status != ComponentStatus.OPERATIONAL:
        return StatusHold.MANUAL
    held, source = _held_status(component)
    if held == ComponentStatus.OPERATIONAL:
        return None
    return StatusHold.MAINTENANCE if source == StatusSource.MAINTENANCE else StatusHold.INCIDENT


def component_create(*, name: str, depends_on: Iterable[Component] = (), **fields) -> Component:
    """Add a component (operational until something says otherwise)."""
    fields.pop("status", None)
    with transaction.atomic():
        component = Component.objects.create(name=name, **fields)
        component.depends_on.set(list(depends_on))
        _after_commit("component", component)
    return component


# Set by staff on the component form or the API; the status only through component_set_status.
COMPONENT_EDITABLE_FIELDS = frozenset(
    {"name", "description", "type", "group", "position", "health_check_url", "show_uptime"}
)


def component_update(
    *, component: Component, depends_on: Iterable[Component] | None = None, **fields
) -> Component:
    """Edit a component's details (never its status) and turn the page over once."""
    unknown = set(fields) - COMPONENT_EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"not editable here: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        component = Component.objects.select_for_update().get(pk=component.pk)
        for name, value in fields.items():
            setattr(component, name, value)
        component.save(update_fields=[*fields, "updated_at"])
        if depends_on is not None:
            component.depends_on.set(list(depends_on))
        _after_commit("component", component)
    return component


# Sources that watch the component by themselves: they yield to whatever holds its status.
AUTOMATIC_SOURCES = frozenset({StatusSource.PROBE, StatusSource.CHECK})


def component_set_status(
    *,
    component: Component,
    status: str,
    source: str = StatusSource.MANUAL,
    actor=None,
    note: str = "",
    at: datetime | None = None,
    manual_hold_until: datetime | None = None,
) -> bool:
    """Set a component's status. A probe or check result (with the probe's `manual_hold_until`)
    is ignored while component_status_hold says something holds the component."""
    if status not in ComponentStatus.values:
        raise ValueError(f"unknown component status {status!r}")
    with transaction.atomic():
        component = Component.objects.select_for_update().get(pk=component.pk)
        if source in AUTOMATIC_SOURCES and component_status_hold(
            component=component, manual_hold_until=manual_hold_until
        ):
            return False
        changed = _apply_status(component, status, source=source, actor=actor, at=at, note=note)
        if changed:
            _after_commit("component", component)
    return changed


def component_manual_status_release(
    *, component: Component, status: str, note: str = "", at: datetime | None = None
) -> bool:
    """Staff's timed hold has ended: hand the component back to `status`, what its probe sees now.

    A standing manual status is replaced and recorded with source `system` (the note says the
    hold expired); otherwise `status` counts as a probe result. While an open incident or
    maintenance holds the component nothing changes. Returns whether the status changed."""
    if status not in ComponentStatus.values:
        raise ValueError(f"unknown component status {status!r}")
    with transaction.atomic():
        component = Component.objects.select_for_update().get(pk=component.pk)
        hold = component_status_hold(component=component)
        if hold in (StatusHold.INCIDENT, StatusHold.MAINTENANCE):
            return False
        if hold == StatusHold.MANUAL:
            source, note = StatusSource.SYSTEM, f"manual hold expired; {note}"
        else:
            source = StatusSource.PROBE
        changed = _apply_status(component, status, source=source, at=at, note=note)
        if changed:
            _after_commit("component", component)
    return changed


# --- incidents --------------------------------------------------------------------------


def _check_transition(table: dict[str, set[str]], old: str, new: str, what: str) -> None:
    if new not in table:
        raise ValueError(f"unknown {what} status {new!r}")
    if new not in table[old]:
        article = "An" if what[0] in "aeiou" else "A"
        raise IllegalTransition(f"{article} {what} cannot go from {old} to {new}.")


def incident_create(
    *,
    title: str,
    message: str,
    status: str = IncidentStatus.INVESTIGATING,
    components: Mapping[Component, str] | None = None,
    impact_override: str = "",
    notify: bool = True,
    author=None,
    started_at: datetime | None = None,
) -> Incident:
    if status not in OPEN_INCIDENT_STATUSES and status != IncidentStatus.RESOLVED:
        raise IllegalTransition(f"An incident cannot be opened as {status}.")
    now = timezone.now()
    with transaction.atomic():
        incident = Incident.objects.create(
            title=title,
            status=IncidentStatus.INVESTIGATING,
            impact_override=impact_override,
            started_at=started_at or now,
            created_by=author if getattr(author, "pk", None) else None,
            created_at=now,
            updated_at=now,
        )
        incident_update_create(
            incident=incident,
            status=status,
            message=message,
            components=components,
            notify=notify,
            author=author,
            display_at=started_at,
        )
    incident.refresh_from_db()
    return incident


def incident_update_create(
    *,
    incident: Incident,
    status: str,
    message: str,
    components: Mapping[Component, str] | None = None,
    impact_override: str | None = None,
    notify: bool = True,
    author=None,
    display_at: datetime | None = None,
) -> IncidentUpdate:
    """Post an update: validate the transition, set the affected components' statuses, and on
    `resolved` restore each component unless another open incident or maintenance still holds it."""
    components = dict(components or {})
    for component_status in components.values():
        if component_status not in ComponentStatus.values:
            raise ValueError(f"unknown component status {component_status!r}")
    now = timezone.now()
    display_at = display_at or now
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        _check_transition(INCIDENT_TRANSITIONS, incident.status, status, "incident")
        actor = author if getattr(author, "pk", None) else None
        declared = {row.component_id: row for row in incident.affected.all()}
        if status == IncidentStatus.RESOLVED:
            # Resolving declares every affected component healthy as far as this incident goes.
            components = {
                **{row.component: ComponentStatus.OPERATIONAL for row in declared.values()},
                **components,
            }
        for component, component_status in components.items():
            row = declared.get(component.pk)
            if row is None:
                declared[component.pk] = IncidentComponent.objects.create(
                    incident=incident, component=component, status=component_status
                )
            elif row.status != component_status:
                row.status = component_status
                row.save(update_fields=["status"])

        incident.status = status
        incident.updated_at = now
        if status == IncidentStatus.MONITORING and not incident.monitoring_at:
            incident.monitoring_at = display_at
        if status == IncidentStatus.RESOLVED and not incident.resolved_at:
            incident.resolved_at = display_at
        if impact_override is not None:
            incident.impact_override = impact_override
        derived = [IMPACT_OF_STATUS[s] for s in components.values()] + [incident.impact]
        incident.impact = max(derived, key=lambda i: IMPACT_RANK[i])
        incident.save()

        snapshot = []
        locked = (
            Component.objects.select_for_update().filter(pk__in=[c.pk for c in components]).order_by("pk")
        )
        for component in locked:
            old = component.status
            new, source = _held_status(component)
            if source == StatusSource.SYSTEM and new != ComponentStatus.OPERATIONAL:
                source = StatusSource.MANUAL if actor else StatusSource.SYSTEM
            _apply_status(
                component, new, source=source, actor=actor, at=display_at, note=f"incident #{incident.pk}"
            )
            snapshot.append(
                {"code": str(component.pk), "name": component.name, "old_status": old, "new_status": new}
            )

        update = IncidentUpdate.objects.create(
            incident=incident,
            status=status,
            body=message,
            display_at=display_at,
            affected_components=snapshot,
            notify=notify,
            author=actor,
            created_at=now,
        )
        _after_commit("incident_update", update)
    return update


def incident_edit(*, incident: Incident, title: str, impact_override: str = "") -> Incident:
    """Edit an incident's title and impact override; its status only moves by updates.
    An edit that changes nothing writes nothing and leaves the page as it is."""
    if impact_override and impact_override not in Impact.values:
        raise ValueError(f"unknown impact {impact_override!r}")
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if (incident.title, incident.impact_override) == (title, impact_override):
            return incident
        incident.title = title
        incident.impact_override = impact_override
        incident.updated_at = timezone.now()
        incident.save(update_fields=["title", "impact_override", "updated_at"])
        _after_commit("incident", incident)
    return incident


def incident_postmortem_publish(*, incident: Incident, body: str, author=None) -> Incident:
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        _check_transition(INCIDENT_TRANSITIONS, incident.status, IncidentStatus.POSTMORTEM, "incident")
        incident.status = IncidentStatus.POSTMORTEM
        incident.postmortem_body = body
        incident.postmortem_published_at = incident.postmortem_published_at or timezone.now()
        incident.updated_at = timezone.now()
        incident.save()
        _after_commit("postmortem", incident)
    return incident


def incident_create_from_template(
    *, template: IncidentTemplate | None, author=None, defaults: Mapping | None = None, **given
) -> Incident:
    """Open an incident with incident_create: each value from `given` (what the request says),
    else from the template, else from `defaults` (what the caller derives, e.g. from an alert)."""
    values = {**(defaults or {}), **(template.incident_values() if template else {}), **given}
    return incident_create(author=author, **values)


# --- incident templates -----------------------------------------------------------------

TEMPLATE_FIELDS = frozenset({"name", "title", "status", "message", "impact_override", "notify"})


def _template_components(template: IncidentTemplate, components: Mapping[Component, str]) -> None:
    for component_status in components.values():
        if component_status not in ComponentStatus.values:
            raise ValueError(f"unknown component status {component_status!r}")
    template.affected.all().delete()
    IncidentTemplateComponent.objects.bulk_create(
        IncidentTemplateComponent(template=template, component=component, status=component_status)
        for component, component_status in components.items()
    )


def incident_template_create(
    *, components: Mapping[Component, str] | None = None, **fields
) -> IncidentTemplate:
    unknown = set(fields) - TEMPLATE_FIELDS
    if unknown:
        raise ValueError(f"not a template field: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        template = IncidentTemplate.objects.create(**fields)
        _template_components(template, dict(components or {}))
    return template


def incident_template_update(
    *, template: IncidentTemplate, components: Mapping[Component, str] | None = None, **fields
) -> IncidentTemplate:
    """Edit a template; `components`, when given, replaces its components and their statuses."""
    unknown = set(fields) - TEMPLATE_FIELDS
    if unknown:
        raise ValueError(f"not a template field: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        template = IncidentTemplate.objects.select_for_update().get(pk=template.pk)
        for name, value in fields.items():
            setattr(template, name, value)
        template.updated_at = timezone.now()
        template.save()
        if components is not None:
            _template_components(template, dict(components))
    return template


def incident_template_delete(*, template: IncidentTemplate) -> None:
    """Incidents opened from it keep what they were given; nothing links them to it."""
    IncidentTemplate.objects.filter(pk=template.pk).delete()


# --- maintenance ------------------------------------------------------------------------


def maintenance_schedule(
    *,
    title: str,
    scheduled_for: datetime,
    scheduled_until: datetime,
    components: Iterable[Component] = (),
    description: str = "",
    auto_start: bool = True,
    auto_complete: bool = True,
    notify: bool = True,
    record_history: bool = False,
    author=None,
    at: datetime | None = None,
    schedule=None,
    occurrence_start: datetime | None = None,
) -> Maintenance:
    """Schedule a window; `at` is when it was announced (its "Scheduled" update), now unless
    told otherwise. With `record_history`, record one that is already over: completed, with its
    own times and its scheduled, in-progress and completed updates, and no mail whatever
    `notify` says. `schedule` and `occurrence_start` mark an occurrence of a recurring schedule
    (statuspage.schedules.services); a second row for one occurrence is an IntegrityError."""
    now = timezone.now()
    maintenance_window_check(
        scheduled_for=scheduled_for, scheduled_until=scheduled_until, record_history=record_history, now=now
    )
    actor = author if getattr(author, "pk", None) else None
    history = {}
    if record_history:
        history = {
            "status": MaintenanceStatus.COMPLETED,
            "started_at": scheduled_for,
            "completed_at": scheduled_until,
        }
    with transaction.atomic():
        maintenance = Maintenance.objects.create(
            title=title,
            description=description,
            scheduled_for=scheduled_for,
            scheduled_until=scheduled_until,
            auto_start=auto_start,
            auto_complete=auto_complete,
            created_by=actor,
            created_at=now,
            updated_at=now,
            schedule=schedule,
            occurrence_start=occurrence_start,
            **history,
        )
        maintenance.components.set(list(components))
        update = MaintenanceUpdate.objects.create(
            maintenance=maintenance,
            status=MaintenanceStatus.SCHEDULED,
            body=description or f"{title} is scheduled.",
            notify=notify and not record_history,
            author=actor,
            display_at=at or (min(now, scheduled_for) if record_history else now),
            created_at=now,
        )
        if record_history:
            for status, body, when in (
                (MaintenanceStatus.IN_PROGRESS, f"{title} has started.", scheduled_for),
                (MaintenanceStatus.COMPLETED, f"{title} is complete.", scheduled_until),
            ):
                update = MaintenanceUpdate.objects.create(
                    maintenance=maintenance,
                    status=status,
                    body=body,
                    notify=False,
                    author=actor,
                    display_at=when,
                    created_at=now,
                )
        _after_commit("maintenance_update", update)
    return maintenance


MAINTENANCE_EDITABLE_FIELDS = frozenset(
    {"title", "description", "scheduled_for", "scheduled_until", "auto_start", "auto_complete"}
)


def _calendar_fields(maintenance: Maintenance) -> tuple:
    """What a calendar event shows of a window (with its components and status)."""
    return (
        maintenance.title,
        maintenance.description,
        to_utc(maintenance.scheduled_for),
        to_utc(maintenance.scheduled_until),
    )


def _sequence_bump(maintenance: Maintenance) -> None:
    """Raise the window's iCalendar SEQUENCE by one. An F() update: each change counts, also
    when two transactions change the window at once."""
    Maintenance.objects.filter(pk=maintenance.pk).update(sequence=F("sequence") + 1)
    maintenance.refresh_from_db(fields=["sequence"])


def maintenance_edit(
    *, maintenance: Maintenance, components: Iterable[Component] | None = None, author=None, **fields
) -> Maintenance:
    """Edit a window's details; its status only moves by updates (start, complete).

    The window must still end after it starts. While it is in progress, components added go
    under maintenance and components taken out are restored (unless something else holds them)."""
    unknown = set(fields) - MAINTENANCE_EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"not editable here: {', '.join(sorted(unknown))}")
    actor = author if getattr(author, "pk", None) else None
    now = timezone.now()
    with transaction.atomic():
        maintenance = Maintenance.objects.select_for_update().get(pk=maintenance.pk)
        shown_before = _calendar_fields(maintenance)
        for name, value in fields.items():
            setattr(maintenance, name, value)
        if {"scheduled_for", "scheduled_until"} & set(fields):
            # Moving a window that has not started into the past would start and complete it
            # at the next beat; a window under way or over keeps its times correctable.
            maintenance_window_check(
                scheduled_for=maintenance.scheduled_for,
                scheduled_until=maintenance.scheduled_until,
                record_history=maintenance.status != MaintenanceStatus.SCHEDULED
                and maintenance.scheduled_until <= now,
                now=now,
            )
        maintenance.updated_at = now
        maintenance.save(update_fields=[*fields, "updated_at"])
        moved = set()
        if components is not None:
            components = list(components)
            before = set(maintenance.components.values_list("pk", flat=True))
            maintenance.components.set(components)
            moved = before ^ {c.pk for c in components}
            if moved and maintenance.is_active:
                _restore(
                    Component.objects.filter(pk__in=moved),
                    actor=actor,
                    at=now,
                    note=f"maintenance #{maintenance.pk}",
                )
        if moved or _calendar_fields(maintenance) != shown_before:
            _sequence_bump(maintenance)
        _after_commit("maintenance", maintenance)
    return maintenance


def maintenance_update_create(
    *,
    maintenance: Maintenance,
    status: str,
    message: str,
    notify: bool = True,
    author=None,
    at: datetime | None = None,
    require_from: tuple[str, ...] | None = None,
) -> MaintenanceUpdate:
    """Move a maintenance on (start, verify, complete) with a message; components follow.
    `require_from` is checked under the row lock, so a duplicate start or complete is refused."""
    now = at or timezone.now()
    actor = author if getattr(author, "pk", None) else None
    with transaction.atomic():
        maintenance = Maintenance.objects.select_for_update().get(pk=maintenance.pk)
        if require_from is not None and maintenance.status not in require_from:
            raise IllegalTransition(f"Maintenance that is {maintenance.status} cannot become {status}.")
        _check_transition(MAINTENANCE_TRANSITIONS, maintenance.status, status, "maintenance")
        was_active, was_status = maintenance.is_active, maintenance.status
        maintenance.status = status
        maintenance.updated_at = now
        if status == MaintenanceStatus.IN_PROGRESS and not maintenance.started_at:
            maintenance.started_at = now
        if status == MaintenanceStatus.COMPLETED:
            maintenance.completed_at = now
        if status == MaintenanceStatus.CANCELLED:
            maintenance.cancelled_at = now
        maintenance.save(update_fields=["status", "updated_at", "started_at", "completed_at", "cancelled_at"])
        if status != was_status:
            _sequence_bump(maintenance)
        if maintenance.is_active != was_active:
            # Entering puts the components under maintenance; leaving restores each unless
            # another maintenance or an open incident still holds it (_held_status decides both).
            _restore(maintenance.components.all(), actor=actor, at=now, note=f"maintenance #{maintenance.pk}")
        update = MaintenanceUpdate.objects.create(
            maintenance=maintenance,
            status=status,
            body=message,
            notify=notify,
            author=actor,
            display_at=now,
            created_at=now,
        )
        _after_commit("maintenance_update", update)
    return update


def maintenance_start(
    *,
    maintenance: Maintenance,
    message: str = "",
    notify: bool = True,
    author=None,
    at: datetime | None = None,
) -> MaintenanceUpdate:
    return maintenance_update_create(
        require_from=(MaintenanceStatus.SCHEDULED,),
        maintenance=maintenance,
        status=MaintenanceStatus.IN_PROGRESS,
        message=message or "Scheduled maintenance is now in progress.",
        notify=notify,
        author=author,
        at=at,
    )


def maintenance_complete(
    *,
    maintenance: Maintenance,
    message: str = "",
    notify: bool = True,
    author=None,
    at: datetime | None = None,
) -> MaintenanceUpdate:
    return maintenance_update_create(
        require_from=ACTIVE_MAINTENANCE_STATUSES,
        maintenance=maintenance,
        status=MaintenanceStatus.COMPLETED,
        message=message or "The scheduled maintenance has been completed.",
        notify=notify,
        author=author,
        at=at,
    )


def maintenance_cancel(
    *, maintenance: Maintenance, user=None, note: str = "", notify: bool | None = None
) -> MaintenanceUpdate:
    """Call a window off before it is over: it leaves the upcoming list, is never started,
    releases the components it holds, and stays in the calendar feeds as cancelled.

    Subscribers hear of it when the window was announced (or as `notify` says); a completed or
    already cancelled window is refused (IllegalTransition)."""
    return maintenance_update_create(
        require_from=(MaintenanceStatus.SCHEDULED, *ACTIVE_MAINTENANCE_STATUSES),
        maintenance=maintenance,
        status=MaintenanceStatus.CANCELLED,
        message=note or "This maintenance has been cancelled.",
        notify=maintenance_notifies(maintenance) if notify is None else notify,
        author=user,
    )


def maintenance_start_due(*, now: datetime | None = None) -> str:
    """The beat job: start auto-start maintenance whose time came, complete auto-complete ones
    whose window ended. Rows are claimed with SKIP LOCKED so two runs never act on one row, and
    each service re-checks the status under its lock, so a late duplicate does nothing."""
    now = now or timezone.now()
    started = completed = 0
    due_start = Maintenance.objects.filter(
        status=MaintenanceStatus.SCHEDULED, auto_start=True, scheduled_for__lte=now
    ).values_list("pk", flat=True)
    for pk in list(due_start):
        with transaction.atomic():
            row = (
                Maintenance.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, status="scheduled")
                .first()
            )
            if row is None:
                continue
            # Unattended, the start and the end are announced as the window was scheduled.
            maintenance_start(maintenance=row, notify=maintenance_notifies(row))
            started += 1
    due_end = Maintenance.objects.active().filter(auto_complete=True, scheduled_until__lte=now)
    for pk in list(due_end.values_list("pk", flat=True)):
        with transaction.atomic():
            row = Maintenance.objects.select_for_update(skip_locked=True).active().filter(pk=pk).first()
            if row is None:
                continue
            maintenance_complete(maintenance=row, notify=maintenance_notifies(row))
            completed += 1
    return f"maintenance: {started} started, {completed} completed"


def visitor_report_record(*, component: Component | None, problem: str = "", client: str = "") -> bool:
    """Count one visitor's "having trouble" report (component None: "something else"); returns
    whether it was counted.

    `client` is the visitor's address, used only to count one report per visitor, component and
    REPORT_DEDUP_SECONDS: the shared cache holds a keyed digest of it for that long, and nothing
    else keeps it. Addresses in THROTTLE_EXEMPT_IPS (a local proxy that passes no address) are
    never merged, since every visitor would share them."""
    label = str(component.pk) if component is not None else visitor_reports.OTHER
    problem = problem if problem in visitor_reports.PROBLEMS else visitor_reports.UNSPECIFIED
    if client and client not in settings.THROTTLE_EXEMPT_IPS:
        digest = hmac.new(settings.SECRET_KEY.encode(), f"{client}|{label}".encode(), hashlib.sha256)
        key = f"statuspage:visitor-report:{digest.hexdigest()[:32]}"
        if (count_in_window(key, visitor_reports.REPORT_DEDUP_SECONDS) or 1) > 1:
            return False
    return counter_add(visitor_reports.KIND, labels={"component": label, "problem": problem})


# --- branding ---------------------------------------------------------------------------

BRANDING_TEXT_FIELDS = ("page_title", "accent_colour", "custom_css", "footer_links", "about")
BRANDING_PICTURES = {
    # field: (accepted formats, byte cap, pixel cap)
    "logo": (branding_checks.LOGO_FORMATS, branding_checks.LOGO_MAX_BYTES, branding_checks.LOGO_MAX_SIDE),
    "favicon": (
        branding_checks.FAVICON_FORMATS,
        branding_checks.FAVICON_MAX_BYTES,
        branding_checks.FAVICON_MAX_SIDE,
    ),
}


class BrandingInvalid(StatusPageError, ValueError):
    """Branding input refused; `errors` maps each field to its messages (the API's 400)."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items()))
        self.errors = errors


def _branding_row() -> StatusPageBranding:
    # Two first writers at once: the loser of the primary-key race locks the winner's row.
    if not StatusPageBranding.objects.filter(pk=StatusPageBranding.SINGLETON_PK).exists():
        try:
            with transaction.atomic():
                StatusPageBranding.objects.create(pk=StatusPageBranding.SINGLETON_PK)
        except IntegrityError:
            pass
    return StatusPageBranding.objects.select_for_update().get(pk=StatusPageBranding.SINGLETON_PK)


def _store_picture(field: str, upload) -> str:
    """Check an uploaded picture by decoding it and store it under a name made of its content, so
    a URL never changes meaning and browsers may cache it for good."""
    formats, max_bytes, max_side = BRANDING_PICTURES[field]
    if (getattr(upload, "size", None) or 0) > max_bytes:
        raise BrandingInvalid({field: [f"The picture is limited to {max_bytes // 1024} KB."]})
    upload.seek(0)
    content = upload.read(max_bytes + 1)
    try:
        kind = branding_checks.image_kind(content, formats=formats, max_bytes=max_bytes, max_side=max_side)
    except ValidationError as exc:
        raise BrandingInvalid({field: exc.messages}) from None
    extension = branding_checks.IMAGE_TYPES[kind][0]
    name = f"branding/{field}-{hashlib.sha256(content).hexdigest()[:16]}.{extension}"
    if not default_storage.exists(name):
        name = default_storage.save(name, ContentFile(content))
    return name


def branding_update(*, values: Mapping) -> StatusPageBranding:
    """Set any of the branding fields; the ones not given keep their values. `logo` and
    `favicon` take an uploaded file, or None (or "") to go back to Vigil's own picture.
    The page cache turns over and the static copy is rewritten once this commits."""
    unknown = set(values) - set(BRANDING_TEXT_FIELDS) - set(BRANDING_PICTURES)
    if unknown:
        raise BrandingInvalid({name: ["Unknown field."] for name in sorted(unknown)})
    pictures = {}
    for field in BRANDING_PICTURES:
        if field in values:
            upload = values[field]
            pictures[field] = _store_picture(field, upload) if upload else ""
    with transaction.atomic():
        row = _branding_row()
        for field in BRANDING_TEXT_FIELDS:
            if field in values:
                setattr(row, field, values[field])
        for field, name in pictures.items():
            setattr(row, field, name)
        try:
            row.full_clean(exclude=list(BRANDING_PICTURES))
        except ValidationError as exc:
            raise BrandingInvalid(exc.message_dict) from None
        row.updated_at = timezone.now()
        row.save()
        # Replaced pictures stay stored: a page rendered a moment ago, or the static copy, may
        # still name them, and a writer waiting on the lock may have picked the same file.
        transaction.on_commit(page_cache.invalidate)
        publish.schedule_publish()
    return row
