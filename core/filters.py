"""Query-string filters shared by the API's list endpoints (django-filter)."""

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField

from core.datetimes import OUT_OF_RANGE, to_utc


class UTCDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, turned to UTC. ISO 8601 (and Python) allow offsets up to ±23:59
    but PostgreSQL refuses any beyond ±15:59, and a few other offsets near year 1 or 9999 move
    the instant out of the years a date-time can hold: both are the client's error (400)."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return to_utc(value)
        except OverflowError:
            raise forms.ValidationError(OUT_OF_RANGE) from None


class UTCDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCDateTimeField
