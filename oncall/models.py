"""On-call schedules: rotation layers of ordered people, overrides, and each person's calendar feed.

Only oncall.services writes these rows; oncall.resolver answers who is on call from them.
"""

from functools import cache
from zoneinfo import available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from oncall.resolver import EARLIEST, LATEST, OUT_OF_RANGE, in_range


@cache
def time_zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_time_zone(name: str) -> None:
    # Only IANA names: ZoneInfo would also open a file path handed to it.
    if name not in time_zone_names():
        raise ValidationError(f"{name!r} is not a time zone; use an IANA name such as Europe/Berlin.")


class Schedule(models.Model):
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="Hand-off times and restrictions are read in this zone (IANA name, e.g. Europe/Berlin).",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RotationLayer(models.Model):
    class Rotation(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"
        HOURS = "hours", "Every N hours"

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="layers")
    name = models.CharField(max_length=120, blank=True)
    level = models.PositiveSmallIntegerField(help_text="A higher layer wins where layers overlap.")
    rotation = models.CharField(max_length=8, choices=Rotation.choices, default=Rotation.WEEKLY)
    shift_hours = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Length of a shift, for a rotation every N hours."
    )
    starts_on = models.DateField(help_text="The first shift begins on this day at the hand-off time.")
    handoff_time = models.TimeField(help_text="Local time of the hand-off, in the schedule's zone.")
    restrict_weekdays = models.JSONField(
        default=list,
        blank=True,
        help_text="Days the layer covers, 0 = Monday ... 6 = Sunday; empty: every day.",
    )
    restrict_from = models.TimeField(null=True, blank=True, help_text="Local start of the covered hours.")
    restrict_to = models.TimeField(
        null=True, blank=True, help_text="Local end of the covered hours; before the start: overnight."
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="LayerMember", related_name="+")

    # What staff set on a layer, in the admin and the API alike.
    SETTINGS = (
        "name",
        "level",
        "rotation",
        "shift_hours",
        "starts_on",
        "handoff_time",
        "restrict_weekdays",
        "restrict_from",
        "restrict_to",
    )

    class Meta:
        ordering = ["schedule", "-level"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "level"], name="oncall_layer_level_unique"),
        ]

    def __str__(self) -> str:
        return self.name or f"Layer {self.level}"

    def clean(self) -> None:
        errors = {}
        if self.rotation == self.Rotation.HOURS and not self.shift_hours:
            errors["shift_hours"] = "A rotation every N hours needs the number of hours."
        if self.rotation != self.Rotation.HOURS and self.shift_hours:
            errors["shift_hours"] = "Only a rotation every N hours has a number of hours."
        if (self.restrict_from is None) != (self.restrict_to is None):
            errors["restrict_to"] = "Give both ends of the covered hours, or neither."
        elif self.restrict_from is not None and self.restrict_from == self.restrict_to:
            errors["restrict_to"] = "The covered hours end where they start; leave both empty for all day."
        weekdays = self.restrict_weekdays
        if not isinstance(weekdays, list) or any(
            not isinstance(day, int) or isinstance(day, bool) or not 0 <= day <= 6 for day in weekdays
        ):
            errors["restrict_weekdays"] = "Weekdays are a list of numbers from 0 (Monday) to 6 (Sunday)."
        elif len(set(weekdays)) != len(weekdays):
            errors["restrict_weekdays"] = "Each weekday may appear once."
        if self.starts_on and not EARLIEST.date() <= self.starts_on < LATEST.date():
            errors["starts_on"] = OUT_OF_RANGE
        if errors:
            raise ValidationError(errors)


class LayerMember(models.Model):
    layer = models.ForeignKey(RotationLayer, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["layer", "position"]
        constraints = [
            models.UniqueConstraint(fields=["layer", "position"], name="oncall_member_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.position + 1})"


class ScheduleOverride(models.Model):
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        ordering = ["schedule", "starts_at"]
        # Serves the resolver's "overrides of this schedule that end after T".
        indexes = [models.Index(fields=["schedule", "ends_at"], name="oncall_override_ends")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="oncall_override_ends_after_start",
                violation_error_message="An override ends after it starts.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.starts_at:%Y-%m-%d %H:%M} – {self.ends_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        errors = {
            name: OUT_OF_RANGE
            for name in ("starts_at", "ends_at")
            if getattr(self, name) and not in_range(getattr(self, name))
        }
        if not errors and self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = "An override ends after it starts."
        if errors:
            raise ValidationError(errors)


class CalendarFeed(models.Model):
    """A person's secret iCalendar URL. Only the token's digest is kept: the URL is shown once,
    when it is issued; issuing a new one revokes the old."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    issued_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"Calendar of {self.user}"
