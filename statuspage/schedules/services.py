"""Every write to maintenance schedules; the admin, the API and the beat job call these.

A schedule's occurrences are ordinary Maintenance rows made by statuspage.services
(maintenance_schedule, maintenance_edit, maintenance_cancel), so each one is announced, reminded,
started and completed exactly as a window scheduled by hand. Each is created once: the row keeps
the rule's start for it (`occurrence_start`) under a unique constraint, and a second worker that
loses the race gets the IntegrityError and goes on."""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from statuspage import services
from statuspage.models import Component, Maintenance, MaintenanceSchedule, MaintenanceStatus
from statuspage.schedules.rules import InvalidRule, occurrences, recurrence

# A schedule's fields in the order the admin form and the API show them; the components are
# set apart from the others by the services.
SCHEDULE_FIELDS = (
    "title",
    "description",
    "components",
    "rrule",
    "starts_on",
    "start_time",
    "duration",
    "time_zone",
    "auto_start",
    "auto_complete",
    "notify",
    "active",
)
SCHEDULE_EDITABLE_FIELDS = frozenset(SCHEDULE_FIELDS) - {"components"}
TAKEN_OFF = "This occurrence was taken off its maintenance schedule."


def _check(schedule: MaintenanceSchedule) -> None:
    """The rule must read in the schedule's zone, and a window must last."""
    recurrence(
        schedule.rrule,
        starts_on=schedule.starts_on,
        start_time=schedule.start_time,
        time_zone=schedule.time_zone,
    )
    if schedule.duration <= timedelta(0):
        raise InvalidRule("The duration must be positive.")


def _horizon(now: datetime) -> datetime:
    return now + timedelta(days=settings.MAINTENANCE_SCHEDULE_HORIZON_DAYS)


def _starts(schedule: MaintenanceSchedule, *, after: datetime, until: datetime) -> list[datetime]:
    return list(
        occurrences(
            schedule.rrule,
            starts_on=schedule.starts_on,
            start_time=schedule.start_time,
            time_zone=schedule.time_zone,
            after=after,
            until=until,
        )
    )


def schedule_create(
    *,
    title: str,
    rrule: str,
    start_time: time,
    duration: timedelta,
    time_zone: str = "UTC",
    starts_on: date | None = None,
    description: str = "",
    components: Iterable[Component] = (),
    auto_start: bool = True,
    auto_complete: bool = True,
    notify: bool = True,
    active: bool = True,
    author=None,
    now: datetime | None = None,
) -> MaintenanceSchedule:
    """Add a schedule and create its occurrences within the horizon at once."""
    now = now or timezone.now()
    schedule = MaintenanceSchedule(
        title=title,
        rrule=rrule.strip(),
        start_time=start_time,
        duration=duration,
        time_zone=time_zone,
        starts_on=starts_on or timezone.localdate(now),
        description=description,
        auto_start=auto_start,
        auto_complete=auto_complete,
        notify=notify,
        active=active,
        created_by=author if getattr(author, "pk", None) else None,
        created_at=now,
        updated_at=now,
    )
    _check(schedule)
    with transaction.atomic():
        schedule.save()
        schedule.components.set(list(components))
    schedule_occurrences_create(schedule=schedule, now=now)
    return schedule


def schedule_update(
    *,
    schedule: MaintenanceSchedule,
    components: Iterable[Component] | None = None,
    author=None,
    now: datetime | None = None,
    **fields,
) -> MaintenanceSchedule:
    """Edit a schedule. Its occurrences that have not started follow: those the rule still
    gives take the new title, texts, components, length and automatic steps; those it no longer
    gives (or all, when the schedule is switched off) are cancelled; new ones are created.
    Occurrences under way or over are left as they are."""
    unknown = set(fields) - SCHEDULE_EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"not editable here: {', '.join(sorted(unknown))}")
    now = now or timezone.now()
    with transaction.atomic():
        schedule = MaintenanceSchedule.objects.select_for_update().get(pk=schedule.pk)
        for name, value in fields.items():
            setattr(schedule, name, value.strip() if name == "rrule" else value)
        _check(schedule)
        schedule.updated_at = now
        schedule.save()
        if components is not None:
            schedule.components.set(list(components))
        _occurrences_follow(schedule, author=author, now=now)
    schedule_occurrences_create(schedule=schedule, now=now)
    return schedule


def schedule_delete(*, schedule: MaintenanceSchedule, author=None, now: datetime | None = None) -> None:
    """Delete a schedule: its occurrences that have not started are cancelled; the rest stay
    as plain maintenance history."""
    now = now or timezone.now()
    with transaction.atomic():
        schedule = MaintenanceSchedule.objects.select_for_update().get(pk=schedule.pk)
        for row in _not_started(schedule, now):
            _take_off(row, author=author)
        schedule.delete()


def _not_started(schedule: MaintenanceSchedule, now: datetime):
    return (
        schedule.occurrences.select_for_update()
        .filter(status=MaintenanceStatus.SCHEDULED, scheduled_for__gt=now)
        .order_by("scheduled_for")
    )


def _take_off(row: Maintenance, *, author=None) -> None:
    """Cancel an occurrence the schedule no longer has, and free its key, so the occurrence is
    created again should the schedule give it again (switched back on, say). An occurrence
    staff cancelled by hand keeps its key: the schedule does not bring that one back."""
    services.maintenance_cancel(maintenance=row, user=author, note=TAKEN_OFF)
    Maintenance.objects.filter(pk=row.pk).update(occurrence_start=None)


def _occurrences_follow(schedule: MaintenanceSchedule, *, author, now: datetime) -> None:
    rows = list(_not_started(schedule, now))
    if not schedule.active:
        for row in rows:
            _take_off(row, author=author)
        return
    until = max([_horizon(now), *(row.occurrence_start for row in rows if row.occurrence_start)])
    wanted = set(_starts(schedule, after=now, until=until))
    components = list(schedule.components.all())
    for row in rows:
        if row.occurrence_start not in wanted:
            _take_off(row, author=author)
            continue
        services.maintenance_edit(
            maintenance=row,
            components=components,
            author=author,
            title=schedule.title,
            description=schedule.description,
            scheduled_for=row.occurrence_start,
            scheduled_until=row.occurrence_start + schedule.duration,
            auto_start=schedule.auto_start,
            auto_complete=schedule.auto_complete,
        )


def occurrence_create(*, schedule: MaintenanceSchedule, start: datetime) -> Maintenance | None:
    """Create the occurrence starting at `start`, unless it exists; None when it already did.

    Another worker may insert the same occurrence between our look and our insert: the unique
    constraint refuses the second row, and the savepoint keeps the caller's transaction usable."""
    if Maintenance.objects.filter(schedule=schedule, occurrence_start=start).exists():
        return None
    try:
        with transaction.atomic():
            return services.maintenance_schedule(
                title=schedule.title,
                description=schedule.description,
                scheduled_for=start,
                scheduled_until=start + schedule.duration,
                components=list(schedule.components.all()),
                auto_start=schedule.auto_start,
                auto_complete=schedule.auto_complete,
                notify=schedule.notify,
                author=schedule.created_by,
                schedule=schedule,
                occurrence_start=start,
            )
    except IntegrityError:
        if Maintenance.objects.filter(schedule=schedule, occurrence_start=start).exists():
            return None
        raise


def schedule_occurrences_create(*, schedule: MaintenanceSchedule, now: datetime | None = None) -> int:
    """Create the schedule's missing occurrences that start within the horizon; returns how many.

    The schedule row is taken with SKIP LOCKED: while an edit or another run holds it, this run
    leaves it alone (that one creates them)."""
    now = now or timezone.now()
    created = 0
    with transaction.atomic():
        schedule = (
            MaintenanceSchedule.objects.select_for_update(skip_locked=True)
            .filter(pk=schedule.pk, active=True)
            .first()
        )
        if schedule is None:
            return 0
        for start in _starts(schedule, after=now, until=_horizon(now)):
            created += occurrence_create(schedule=schedule, start=start) is not None
    return created


def schedules_run(*, now: datetime | None = None) -> str:
    """The beat job schedule_maintenance: every active schedule's occurrences, a horizon ahead."""
    now = now or timezone.now()
    created = 0
    for pk in list(MaintenanceSchedule.objects.filter(active=True).values_list("pk", flat=True)):
        created += schedule_occurrences_create(schedule=MaintenanceSchedule(pk=pk), now=now)
    return f"maintenance schedules: {created} occurrence(s) created"
