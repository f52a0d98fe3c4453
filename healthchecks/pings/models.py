import secrets
import uuid
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from healthchecks.pings.schedule import schedule_problem, time_zone_problem
from notifications.models import Severity

MINUTE, DAY = 60, 86400
# The severity of a check's alert when the check names none (what every check had before).
DEFAULT_ALERT_SEVERITY = Severity.HIGH


def _project_ping_key() -> str:
    # Never shaped like a UUID, so /ping/<project key>/<slug> cannot be read as /ping/<uuid>/...
    return secrets.token_urlsafe(16)


class CheckProject(models.Model):
    """A ping key shared by several checks, each pinged by its slug: /ping/<ping_key>/<slug>."""

    name = models.CharField(max_length=100, unique=True)
    ping_key = models.CharField(max_length=64, unique=True, default=_project_ping_key)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Check(models.Model):
    """A job that reports to Vigil. Simple checks expect a ping every `period`; cron checks at
    every time of `schedule` (in `time_zone`). Either is late when a ping is overdue and down,
    with an alert, `grace` later; a run that started and did not finish is down `grace` after
    its start."""

    class Kind(models.TextChoices):
        SIMPLE = "simple", "Simple (period + grace)"
        CRON = "cron", "Cron (schedule + grace)"

    class State(models.TextChoices):
        NEW = "new", "New (no ping yet)"
        UP = "up", "Up"
        LATE = "late", "Late (in its grace time)"
        DOWN = "down", "Down"
        PAUSED = "paused", "Paused"

    name = models.CharField(max_length=200)
    ping_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(
        CheckProject, null=True, blank=True, on_delete=models.PROTECT, related_name="checks"
    )
    slug = models.SlugField(max_length=100, blank=True, help_text="Its name under the project's ping key.")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SIMPLE)
    period_seconds = models.PositiveIntegerField(
        default=DAY, validators=[MinValueValidator(MINUTE), MaxValueValidator(365 * DAY)]
    )
    schedule = models.CharField(max_length=100, blank=True, default="0 * * * *", help_text="Cron checks.")
    time_zone = models.CharField(max_length=64, default="UTC")
    grace_seconds = models.PositiveIntegerField(
        default=3600, validators=[MinValueValidator(MINUTE), MaxValueValidator(365 * DAY)]
    )
    # Where its alert goes. Blank severity and no channels: the defaults of an alert without a
    # rule (DEFAULT_ALERT_SEVERITY, every channel that admits it).
    severity = models.CharField(
        max_length=10,
        choices=Severity.choices,
        blank=True,
        default="",
        help_text=f"Its alert's severity; blank: {Severity.HIGH}.",
    )
    channels = models.ManyToManyField(
        "notifications.Channel",
        blank=True,
        related_name="checks",
        help_text="Where its alert goes; none: every enabled channel that admits its severity.",
    )
    escalation_policy = models.ForeignKey(
        "oncall.EscalationPolicy",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="checks",
        help_text="Who is paged, and when, while its alert stays unacknowledged (beside its channels).",
    )
    component = models.ForeignKey(
        "statuspage.Component", null=True, blank=True, on_delete=models.SET_NULL, related_name="checks"
    )
    builtin_job = models.CharField(
        max_length=100, blank=True, editable=False, help_text="The Vigil beat job reporting to it."
    )
    description = models.TextField(blank=True)

    # Written by healthchecks.pings.services only.
    state = models.CharField(max_length=10, choices=State.choices, default=State.NEW, editable=False)
    last_ping_at = models.DateTimeField(null=True, blank=True, editable=False)
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_duration = models.DurationField(null=True, blank=True, editable=False)
    due_at = models.DateTimeField(null=True, blank=True, editable=False)
    alert_after = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    STATE_FIELDS = ("state", "last_ping_at", "started_at", "last_duration", "due_at", "alert_after")

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "slug"], condition=~models.Q(slug=""), name="check_unique_project_slug"
            ),
            models.UniqueConstraint(
                fields=["builtin_job"], condition=~models.Q(builtin_job=""), name="check_unique_builtin_job"
            ),
        ]
        # The sweep's two questions: which checks are now late, which are now down.
        indexes = [
            models.Index(fields=["alert_after"], name="check_alert_after"),
            models.Index(fields=["due_at"], name="check_due_at"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def period(self) -> timedelta:
        return timedelta(seconds=self.period_seconds)

    @property
    def grace(self) -> timedelta:
        return timedelta(seconds=self.grace_seconds)

    @property
    def alert_severity(self) -> str:
        return self.severity or DEFAULT_ALERT_SEVERITY

    @property
    def fingerprint(self) -> str:
        return f"check:{self.pk}"

    def clean(self):
        problems = {}
        if self.kind == self.Kind.CRON:
            problem = schedule_problem(self.schedule)
            if problem:
                problems["schedule"] = problem
        problem = time_zone_problem(self.time_zone)
        if problem:
            problems["time_zone"] = problem
        if self.slug and self.project_id is None:
            problems["slug"] = "A slug is a name under a project's ping key: choose the project too."
        if problems:
            raise ValidationError(problems)


class Ping(models.Model):
    """One report from a job, kept LOGS_RETENTION_DAYS."""

    class Kind(models.TextChoices):
        SUCCESS = "success", "Success"
        START = "start", "Start"
        FAIL = "fail", "Failure"
        LOG = "log", "Log"

    # Not `check`: that name is Django's Model.check().
    check_ref = models.ForeignKey(Check, on_delete=models.CASCADE, related_name="pings", db_column="check_id")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    exit_status = models.PositiveSmallIntegerField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)
    duration = models.DurationField(null=True, blank=True, help_text="Since the run's start ping.")
    method = models.CharField(max_length=8)
    remote_addr = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["check_ref", "at"], name="ping_check_at")]

    def __str__(self) -> str:
        return f"{self.kind} at {self.at:%Y-%m-%d %H:%M:%S}"


class PingBufferBatch(models.Model):
    """A batch of buffered pings applied to the database (healthchecks/pings/buffer.py): its id
    commits with its pings, so a batch met again after a crash or a redelivery is not applied
    twice. Kept a day; the flusher prunes older rows."""

    batch_id = models.CharField(max_length=32, unique=True)
    pings = models.PositiveIntegerField()
    applied_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.pings} pings at {self.applied_at:%Y-%m-%d %H:%M:%S}"
