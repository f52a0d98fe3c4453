"""On-call schedules (rotation layers of ordered people, overrides, calendar feeds), each person's
contact methods and notification rules, and the escalation policies that page them.

Only oncall.services writes these rows; oncall.resolver answers who is on call from them.
"""

import re
from datetime import time, timedelta
from functools import cache
from zoneinfo import available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, validate_email
from django.db import models
from django.utils import timezone

from oncall.resolver import EARLIEST, LATEST, OUT_OF_RANGE, in_range

MAX_POLICY_REPEATS = 9
MAX_STEP_REPEATS = 10
MAX_RULE_DELAY = 24 * 60


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


# --- people: how each person is reached ------------------------------------------------------


class Urgency(models.TextChoices):
    HIGH = "high", "High (critical and high alerts)"
    LOW = "low", "Low (medium and low alerts)"


def urgency_of(severity: str) -> str:
    return Urgency.HIGH if severity in ("critical", "high") else Urgency.LOW


# E.164: a plus, then up to 15 digits, the first not 0.
PHONE_NUMBER = re.compile(r"\+[1-9][0-9]{6,14}")
# Slack member ids: U or W, then upper-case letters and digits.
SLACK_MEMBER = re.compile(r"[UW][A-Z0-9]{6,20}")
# ntfy's own rule for topic names (as notifications.models.NTFY_TOPIC).
PUSH_TOPIC = re.compile(r"[-_A-Za-z0-9]{1,64}")
CODE_LIFETIME = timedelta(minutes=10)
MAX_CODE_ATTEMPTS = 5


class ContactMethod(models.Model):
    """One way to reach a person. Paged only once verified: a code sent to it came back."""

    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        SMS = "sms", "Phone (SMS)"
        VOICE = "voice", "Phone (voice call)"
        SLACK = "slack", "Slack member"
        PUSH = "push", "Push (ntfy topic)"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_methods"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    address = models.CharField(
        max_length=254,
        help_text="The e-mail address, the phone number (+491701234567), the Slack member id (U…) "
        "or the ntfy topic.",
    )
    label = models.CharField(max_length=100, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The pending verification code: only its keyed digest, when it stops working, and how many
    # wrong guesses it has had.
    code_digest = models.CharField(max_length=64, blank=True, editable=False)
    code_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    code_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    code_attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["user", "kind", "address"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "address"],
                name="oncall_contact_method_unique",
                violation_error_message="This person already has this contact method.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.address}"

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    def clean(self) -> None:
        address = self.address.strip()
        if self.kind == self.Kind.EMAIL:
            try:
                validate_email(address)
            except ValidationError:
                raise ValidationError({"address": f"{address!r} is not an e-mail address."}) from None
        elif self.kind in (self.Kind.SMS, self.Kind.VOICE) and not PHONE_NUMBER.fullmatch(address):
            raise ValidationError(
                {"address": "A phone number is written in international form: +, country code, number."}
            )
        elif self.kind == self.Kind.SLACK and not SLACK_MEMBER.fullmatch(address):
            raise ValidationError({"address": "A Slack member id starts with U or W, e.g. U024BE7LH."})
        elif self.kind == self.Kind.PUSH and not PUSH_TOPIC.fullmatch(address):
            raise ValidationError({"address": "An ntfy topic is 1 to 64 letters, digits, '-' or '_'."})


class NotificationRule(models.Model):
    """One step of a person's own rules: `delay_minutes` after a page of this urgency, reach
    them by this contact method."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_rules"
    )
    urgency = models.CharField(max_length=4, choices=Urgency.choices)
    contact_method = models.ForeignKey(ContactMethod, on_delete=models.CASCADE, related_name="rules")
    delay_minutes = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(MAX_RULE_DELAY)], help_text="Minutes after the page."
    )

    class Meta:
        ordering = ["user", "urgency", "delay_minutes", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "urgency", "contact_method", "delay_minutes"],
                name="oncall_notification_rule_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.urgency}: {self.contact_method} after {self.delay_minutes} min"

    def clean(self) -> None:
        if self.contact_method_id and self.user_id and self.contact_method.user_id != self.user_id:
            raise ValidationError({"contact_method": "A rule uses one of the person's own contact methods."})


# --- escalation policies -----------------------------------------------------------------------


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class EscalationPolicy(models.Model):
    """Ordered steps that page people, whoever is on call and channels, until someone
    acknowledges; then, `repeat` more times, the whole policy again."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    repeat = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(MAX_POLICY_REPEATS)],
        help_text=f"Times to run the whole policy again after its last step (at most {MAX_POLICY_REPEATS}).",
    )
    # A weekly paging drill (alerts.drills): on this weekday, at this time in this zone.
    drill_weekday = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        choices=Weekday.choices,
        help_text="Run a paging drill through this policy every week on this day (empty: no weekly drill).",
    )
    drill_time = models.TimeField(default=time(10, 0), help_text="When the weekly drill starts.")
    drill_time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="The zone of the drill's day and time (IANA name, e.g. Europe/Berlin).",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "escalation policies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(repeat__lte=MAX_POLICY_REPEATS), name="oncall_policy_repeat_bounded"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PolicyStep(models.Model):
    """Wait `escalate_after_minutes` (from the page before, or from the alert for the first
    step), then notify the users, whoever is on call in the schedules at that moment, and the
    channels; `repeat` more times at the same interval, then on to the next level."""

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="steps")
    level = models.PositiveSmallIntegerField(default=1)
    escalate_after_minutes = models.PositiveIntegerField(default=15)
    repeat = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(MAX_STEP_REPEATS)],
        help_text=f"Extra times to notify at this level (at most {MAX_STEP_REPEATS}).",
    )
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    schedules = models.ManyToManyField(
        Schedule, blank=True, related_name="policy_steps", help_text="Whoever is on call when the step fires."
    )
    channels = models.ManyToManyField("notifications.Channel", blank=True, related_name="policy_steps")

    class Meta:
        ordering = ["policy", "level"]
        constraints = [models.UniqueConstraint(fields=["policy", "level"], name="oncall_policy_step_level")]

    def __str__(self) -> str:
        return f"{self.policy} level {self.level} after {self.escalate_after_minutes} min"
