"""Time counted in business hours: a deadline that only runs while a calendar is open."""

import zoneinfo
from datetime import UTC, datetime, timedelta

from reports.models import BusinessCalendar

# A calendar open one hour a week still ends a year-long target inside this many days.
MAX_DAYS = 3700


def _open_spans(calendar: BusinessCalendar, since: datetime):
    """[open, close) spans in UTC from the day `since` falls on, in the calendar's zone."""
    zone = zoneinfo.ZoneInfo(calendar.time_zone)
    day = since.astimezone(zone).date()
    for _ in range(MAX_DAYS):
        if str(day.isoweekday()) in calendar.weekdays:
            # Each end is placed on the wall clock of its own day, so a day that changes to or
            # from summer time keeps the hours the calendar names.
            opens = datetime.combine(day, calendar.opens_at, tzinfo=zone).astimezone(UTC)
            closes = datetime.combine(day, calendar.closes_at, tzinfo=zone).astimezone(UTC)
            yield opens, closes
        day += timedelta(days=1)


def deadline(start: datetime, seconds: float, calendar: BusinessCalendar | None) -> datetime:
    """When `seconds` of (business) time have passed after `start`."""
    if calendar is None:
        return start + timedelta(seconds=seconds)
    left = timedelta(seconds=seconds)
    for opens, closes in _open_spans(calendar, start):
        begin = max(opens, start)
        if begin >= closes:
            continue
        if begin + left <= closes:
            return begin + left
        left -= closes - begin
    raise ValueError(f"calendar {calendar} has no open hours")


def business_seconds(start: datetime, end: datetime, calendar: BusinessCalendar | None) -> float:
    """Seconds of (business) time in [start, end)."""
    if end <= start:
        return 0.0
    if calendar is None:
        return (end - start).total_seconds()
    total = 0.0
    for opens, closes in _open_spans(calendar, start):
        if opens >= end:
            break
        begin, finish = max(opens, start), min(closes, end)
        if finish > begin:
            total += (finish - begin).total_seconds()
    return total
