"""Date-times from clients, made unambiguous: always compared and stored as instants in UTC.

Two aware date-times that share a tzinfo are compared by Python on their wall clocks, ignoring
the offset: with TIME_ZONE=Europe/Berlin, 02:45+02:00 and 02:15+01:00 on the night the clocks
go back compare the wrong way round. Turned to UTC first, they compare as the instants they are.
"""

from datetime import UTC, datetime, tzinfo

from django.utils import timezone
from rest_framework import serializers

OUT_OF_RANGE = "Enter a date-time between the years 1 and 9999."


def to_utc(value: datetime) -> datetime:
    """An aware date-time as the same instant in UTC; OverflowError when that instant falls
    outside the years 1 to 9999 (an offset near either end moves it out)."""
    return value.astimezone(UTC)


def is_ambiguous_or_missing(value: datetime, zone: tzinfo) -> bool:
    """Whether a wall-clock time names no instant (the hour skipped when clocks go forward) or
    two (the hour repeated when they go back) in `zone`: its two readings then differ."""
    first, second = value.replace(tzinfo=zone, fold=0), value.replace(tzinfo=zone, fold=1)
    return first.utcoffset() != second.utcoffset()


class UTCDateTimeField(serializers.DateTimeField):
    """An API date-time: with an offset as given; without one, in the current time zone, unless
    that wall-clock time is skipped or repeated there (then refused, since guessing which
    instant was meant could move a window by an hour). The value comes out in UTC."""

    default_error_messages = {
        "ambiguous": (
            "{value} does not name one moment in the time zone {zone}: the clocks skip or repeat "
            "that hour. Give the time with its UTC offset (for example 2025-10-26T02:30:00+01:00)."
        ),
        "out_of_range": OUT_OF_RANGE,
    }

    def enforce_timezone(self, value: datetime) -> datetime:
        if timezone.is_naive(value):
            zone = timezone.get_current_timezone()
            if is_ambiguous_or_missing(value, zone):
                self.fail("ambiguous", value=value.isoformat(), zone=zone)
            value = value.replace(tzinfo=zone)
        try:
            return to_utc(value)
        except OverflowError:
            self.fail("out_of_range")
