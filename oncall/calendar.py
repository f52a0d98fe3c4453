"""On-call shifts as iCalendar (RFC 5545), for calendar apps that subscribe to a URL."""

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from django.utils import timezone
from icalendar import Calendar, Event

from oncall.models import Schedule
from oncall.resolver import Shift

PRODUCT = "-//Vigil//On call//EN"
# What a feed covers: calendar apps re-read it every few hours, so a short look back is enough.
FEED_PAST = timedelta(days=14)
FEED_AHEAD = timedelta(days=90)


def feed_window(now: datetime | None = None) -> tuple[datetime, datetime]:
    now = (now or timezone.now()).astimezone(UTC)
    return now - FEED_PAST, now + FEED_AHEAD


def _event(schedule: Schedule, shift: Shift, name: str, stamp: datetime) -> Event:
    event = Event()
    # Stable across reads, so a calendar app updates the event rather than adding a second one.
    event.add("uid", f"oncall-{schedule.pk}-{shift.user_id}-{shift.starts_at:%Y%m%dT%H%M%SZ}@vigil")
    event.add("dtstamp", stamp)
    event.add("dtstart", shift.starts_at)
    event.add("dtend", shift.ends_at)
    event.add("summary", f"On call: {name} ({schedule.name})")
    event.add("categories", ["On call"])
    return event


def shifts_calendar(title: str, shifts: Iterable[tuple[Schedule, Shift]], names: Mapping[int, str]) -> bytes:
    """One event per shift with someone on call; gaps are left out."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", title)
    stamp = timezone.now().astimezone(UTC)
    for schedule, shift in shifts:
        if shift.user_id is not None:
            calendar.add_component(_event(schedule, shift, names.get(shift.user_id, "?"), stamp))
    return calendar.to_ical()
