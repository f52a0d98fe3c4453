"""Recurrence rules of maintenance schedules: pure functions over aware datetimes.

A rule is one iCalendar RRULE (RFC 5545), read with python-dateutil from a local start on the
schedule's first day, in the schedule's time zone. dateutil steps the local wall clock, so
"FREQ=MONTHLY;BYDAY=1SU" at 02:00 Europe/Berlin is 02:00 local in winter and in summer alike;
only the conversion to UTC moves by the offset of the day."""

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import HOURLY, MINUTELY, SECONDLY, rrule, rrulestr

# Windows shorter apart than a day would be hundreds of rows per horizon; nobody plans those.
TOO_FREQUENT = {SECONDLY: "SECONDLY", MINUTELY: "MINUTELY", HOURLY: "HOURLY"}
# The most occurrences one run creates for one schedule (a daily rule and a long horizon).
MAX_OCCURRENCES = 400
MONTH_DAYS = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}
EXAMPLE = "e.g. FREQ=MONTHLY;BYDAY=1SU for the first Sunday of each month"


class InvalidRule(ValueError):
    """A recurrence rule that cannot be used; the message says why."""


def _text(value: str) -> str:
    text = value.strip()
    if text.upper().startswith("RRULE:"):
        text = text[len("RRULE:") :]
    if not text:
        raise InvalidRule(f"A recurrence rule is needed ({EXAMPLE}).")
    if "\n" in text or "\r" in text or ":" in text:
        # DTSTART, RDATE and EXDATE lines are not taken: the schedule's own fields give the start.
        raise InvalidRule(f"Only one RRULE is taken, without DTSTART or other lines ({EXAMPLE}).")
    return text


def recurrence(
    value: str, *, starts_on: date, start_time: time, time_zone: str = "UTC", check_frequency: bool = True
) -> rrule:
    """The rule as dateutil's rrule, starting at `start_time` local on `starts_on`."""
    text = _text(value)
    start = datetime.combine(starts_on, start_time, tzinfo=ZoneInfo(time_zone))
    try:
        rule = rrulestr(text, dtstart=start, cache=False)
    except (ValueError, TypeError, OverflowError) as exc:
        message = str(exc)
        if "UNTIL" in message:
            message = "UNTIL must be a UTC time such as 20311231T000000Z"
        raise InvalidRule(f"Not a recurrence rule ({message}); {EXAMPLE}.") from None
    if not isinstance(rule, rrule):
        raise InvalidRule(f"Only one RRULE is taken ({EXAMPLE}).")
    if rule._byyearday or rule._byweekno or rule._byeaster:
        raise InvalidRule(f"BYYEARDAY, BYWEEKNO and BYEASTER are not taken ({EXAMPLE}).")
    if rule._bymonthday or rule._bynmonthday:
        # dateutil searches a rule that matches no date up to the year 9999 (seconds of work at
        # every call), and "the 30th of February" is the one such rule that is easy to write.
        days = [abs(day) for day in (*(rule._bymonthday or ()), *(rule._bynmonthday or ()))]
        if all(day > MONTH_DAYS[month] for month in rule._bymonth or range(1, 13) for day in days):
            raise InvalidRule(f"That day of the month never happens in the months given ({EXAMPLE}).")
    if any(abs(position) > 5 for position in rule._bysetpos or ()):
        # The same search: the 7th Monday of a month never comes. Five covers "the last".
        raise InvalidRule(f"BYSETPOS goes from -5 to 5 ({EXAMPLE}).")
    if check_frequency and rule._freq in TOO_FREQUENT:
        raise InvalidRule(
            f"FREQ={TOO_FREQUENT[rule._freq]} is too frequent for maintenance: DAILY at the most ({EXAMPLE})."
        )
    return rule


def rule_problem(value: str) -> str:
    """Why the rule is unusable ("" when it is fine), for forms and serializers."""
    try:
        recurrence(value, starts_on=date(2000, 1, 1), start_time=time(0, 0))
    except InvalidRule as exc:
        return str(exc)
    return ""


def occurrences(
    value: str,
    *,
    starts_on: date,
    start_time: time,
    time_zone: str,
    after: datetime,
    until: datetime,
    limit: int = MAX_OCCURRENCES,
) -> Iterator[datetime]:
    """The starts (in UTC) that fall after `after` and no later than `until`, in order.

    A local start the clocks skip (02:30 on the night they go forward) is taken at the same
    distance after the change (03:30); a repeated one, at its first time."""
    rule = recurrence(value, starts_on=starts_on, start_time=start_time, time_zone=time_zone)
    # dateutil compares in local time with the zone attached (wall clock): a day of slack either
    # side keeps an offset change at the edges from losing one; the exact comparison, in UTC, is
    # below. between() stops at `until`: a rule that matches no date at all ("30 February")
    # would otherwise be searched to the year 9999, seconds of work per call.
    zone = ZoneInfo(time_zone)
    local_after = (after - timedelta(days=1)).astimezone(zone)
    local_until = (until + timedelta(days=1)).astimezone(zone)
    found = 0
    for local in rule.between(local_after, local_until, inc=True):
        start = local.astimezone(UTC)
        if after < start <= until:
            yield start
            found += 1
            if found >= limit:
                return
