"""Service levels (availability objectives, response targets) and scheduled reports."""

import zoneinfo
from datetime import time
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.text import validate_line
from notifications.models import Severity


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"Unknown time zone: {value!r} (use an IANA name such as Europe/Berlin).")


def validate_weekdays(value: str) -> None:
    if not value or any(ch not in "1234567" for ch in value) or len(set(value)) != len(value):
        raise ValidationError("Weekdays as digits 1 (Monday) to 7 (Sunday), each once, e.g. 12345.")


class BusinessCalendar(models.Model):
    """Working hours: the same hours on chosen weekdays, in one time zone."""

    name = models.CharField(max_length=100, unique=True, validators=[validate_line])
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    weekdays = models.CharField(
        max_length=7,
        default="12345",
        validators=[validate_weekdays],
        help_text="Digits 1 (Monday) to 7 (Sunday): 12345 is Monday to Friday.",
    )
    opens_at = models.TimeField(default=time(9, 0))
    closes_at = models.TimeField(default=time(17, 0))

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="calendar_opens_first"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValidationError({"closes_at": "Closes after it opens (hours within one day)."})


class ServiceLevelObjective(models.Model):
    """An availability target for a component or for a group (its components pooled), measured
    with the status page's uptime formula."""

    class Window(models.TextChoices):
        ROLLING = "rolling", "Rolling days"
        CALENDAR_MONTH = "calendar_month", "Calendar month"

    name = models.CharField(max_length=100, validators=[validate_line])
    component = models.ForeignKey(
        "statuspage.Component", null=True, blank=True, on_delete=models.CASCADE, related_name="objectives"
    )
    group = models.ForeignKey(
        "statuspage.ComponentGroup",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="objectives",
    )
    target_percent = models.DecimalField(
        max_digits=6,
        decimal_places=3,
        default=Decimal("99.9"),
        validators=[MinValueValidator(50), MaxValueValidator(99.999)],
        help_text="Availability target, e.g. 99.9.",
    )
    window = models.CharField(max_length=16, choices=Window.choices, default=Window.ROLLING)
    window_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="Length of a rolling window (the uptime API's days); unused for a calendar month.",
    )
    burn_alerts = models.BooleanField(default=True, help_text="Raise an alert on a fast burn of the budget.")
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.HIGH)
    created_at = models.DateTimeField(default=timezone.now)
    last_evaluated_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = "service level objective"
        constraints = [
            models.CheckConstraint(
                condition=Q(component__isnull=False, group__isnull=True)
                | Q(component__isnull=True, group__isnull=False),
                name="slo_component_or_group",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if bool(self.component_id) == bool(self.group_id):
            raise ValidationError("Choose a component or a group, not both.")

    @property
    def target(self) -> float:
        return float(self.target_percent) / 100

    @property
    def fingerprint(self) -> str:
        return f"slo-burn:{self.pk}"


class ResponseTarget(models.Model):
    """How soon an alert of a severity must be acknowledged and resolved."""

    severity = models.CharField(max_length=10, choices=Severity.choices, unique=True)
    acknowledge_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolve_minutes = models.PositiveIntegerField(null=True, blank=True)
    calendar = models.ForeignKey(
        BusinessCalendar,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="Count only these business hours; empty: around the clock.",
    )

    class Meta:
        ordering = ["severity"]

    def __str__(self) -> str:
        return f"{self.severity} response target"


class ResponseBreach(models.Model):
    class Kind(models.TextChoices):
        ACKNOWLEDGE = "acknowledge", "Time to acknowledge"
        RESOLVE = "resolve", "Time to resolve"

    alert = models.ForeignKey("alerts.Alert", on_delete=models.CASCADE, related_name="response_breaches")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    target_minutes = models.PositiveIntegerField()
    business_hours = models.CharField(max_length=100, blank=True, help_text="The calendar, if any.")
    due_at = models.DateTimeField()
    # When the acknowledgement or resolution came; empty: it had not come when the breach was found.
    answered_at = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-due_at"]
        constraints = [
            # Found by every worker's sweep, recorded once.
            models.UniqueConstraint(fields=["alert", "kind"], name="breach_one_per_alert_kind")
        ]
        indexes = [models.Index(fields=["due_at"], name="breach_due_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} missed on alert #{self.alert_id}"


class Report(models.Model):
    """A scheduled report: its period, who gets it, which components it covers."""

    class Frequency(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"
        MONTHLY = "monthly", "Monthly"

    name = models.CharField(max_length=100, validators=[validate_line])
    frequency = models.CharField(max_length=8, choices=Frequency.choices, default=Frequency.MONTHLY)
    recipients = models.TextField(help_text="E-mail addresses, one a line or separated by commas.")
    components = models.ManyToManyField(
        "statuspage.Component", blank=True, related_name="+", help_text="None chosen: every component."
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def recipient_list(self) -> list[str]:
        return [a.strip() for a in self.recipients.replace(",", "\n").splitlines() if a.strip()]

    def clean(self) -> None:
        from django.core.validators import validate_email

        if not self.recipient_list():
            raise ValidationError({"recipients": "Give at least one address."})
        for address in self.recipient_list():
            try:
                validate_email(address)
            except ValidationError:
                raise ValidationError({"recipients": f"Not an e-mail address: {address}"}) from None


class ReportRun(models.Model):
    """One period of a scheduled report, sent once: the unique (report, period) row is claimed
    before the mail is written, in the same transaction."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="runs")
    period_start = models.DateField()
    period_end = models.DateField(help_text="The last day of the period (inclusive).")
    message = models.ForeignKey(
        "notifications.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-period_start"]
        constraints = [
            models.UniqueConstraint(fields=["report", "period_start"], name="report_run_once_per_period")
        ]

    def __str__(self) -> str:
        return f"{self.report} {self.period_start}–{self.period_end}"
