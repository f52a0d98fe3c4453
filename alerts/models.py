from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from alerts.matching import matcher_problems, matchers_match
from notifications.models import Severity  # one vocabulary for alerts and the channels they go to


class AlertRule(models.Model):
    """A condition on an aggregate of one metric over a window, plus its evaluation state.

    The state (ok / pending / firing, with the times it entered them) is stored on the row, so
    a restart of beat or the workers never resets a `duration` timer.
    """

    class Aggregation(models.TextChoices):
        AVG = "avg", "Average"
        MIN = "min", "Minimum"
        MAX = "max", "Maximum"
        P95 = "p95", "95th percentile"
        COUNT = "count", "Count"
        LAST = "last", "Last value"
        SUM = "sum", "Sum"

    class Operator(models.TextChoices):
        GT = ">", ">"
        GTE = ">=", ">="
        LT = "<", "<"
        LTE = "<=", "<="
        EQ = "==", "=="
        NE = "!=", "!="

    class NoData(models.TextChoices):
        OK = "ok", "Treat as OK"
        ALERTING = "alerting", "Treat as alerting"
        KEEP_LAST = "keep_last", "Keep last state"

    class State(models.TextChoices):
        OK = "ok", "OK"
        PENDING = "pending", "Pending"
        FIRING = "firing", "Firing"

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    # The metric selector: blank fields match anything.
    metric_type = models.CharField(max_length=32, blank=True)
    category = models.CharField(max_length=64, blank=True)
    metric_name = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=200, blank=True)
    endpoint = models.CharField(max_length=500, blank=True)
    tags = models.JSONField(default=dict, blank=True, help_text="Points must carry all these tag values.")
    aggregation = models.CharField(max_length=8, choices=Aggregation.choices, default=Aggregation.AVG)
    window_minutes = models.PositiveIntegerField(default=5, help_text="Aggregate over the last N minutes.")
    operator = models.CharField(max_length=2, choices=Operator.choices, default=Operator.GT)
    threshold = models.FloatField()
    duration_minutes = models.PositiveIntegerField(
        default=0, help_text="Minutes the condition must hold before the alert fires (0: at once)."
    )
    keep_firing_for_minutes = models.PositiveIntegerField(
        default=0, help_text="Minutes to keep firing after the condition clears, against flapping."
    )
    no_data = models.CharField(max_length=10, choices=NoData.choices, default=NoData.KEEP_LAST)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.HIGH)
    enabled = models.BooleanField(default=True)
    channels = models.ManyToManyField("notifications.Channel", blank=True, related_name="alert_rules")
    component = models.ForeignKey(
        "statuspage.Component",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alert_rules",
        help_text="While this component is under maintenance, the rule's alerts are recorded but not sent.",
    )
    runbook_url = models.URLField(blank=True)
    escalation_policy = models.ForeignKey(
        "oncall.EscalationPolicy",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="rules",
        help_text="Who is paged, and when, while the rule's alerts stay unacknowledged.",
    )

    # Evaluation state, written only by the evaluator (alerts.evaluation), which compares and sets
    # STATE_FIELDS against what its tick read; the API and the admin show EVALUATION_FIELDS read-only.
    STATE_FIELDS = (
        "state",
        "pending_since",
        "firing_since",
        "condition_cleared_at",
        "flapping",
        "recent_transitions",
    )
    EVALUATION_FIELDS = (*STATE_FIELDS, "last_evaluated_at", "last_value", "last_error")
    state = models.CharField(max_length=10, choices=State.choices, default=State.OK)
    pending_since = models.DateTimeField(null=True, blank=True)
    firing_since = models.DateTimeField(null=True, blank=True)
    condition_cleared_at = models.DateTimeField(null=True, blank=True)
    last_evaluated_at = models.DateTimeField(null=True, blank=True)
    last_value = models.FloatField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    recent_transitions = models.JSONField(
        default=list, blank=True, help_text="ISO times of recent state changes."
    )
    flapping = models.BooleanField(default=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["enabled", "metric_name"], name="alertrule_enabled_metric")]

    def __str__(self) -> str:
        return self.name

    def condition_holds(self, value: float) -> bool:
        compare = {
            ">": value > self.threshold,
            ">=": value >= self.threshold,
            "<": value < self.threshold,
            "<=": value <= self.threshold,
            "==": value == self.threshold,
            "!=": value != self.threshold,
        }
        return compare[self.operator]

    def describe_condition(self) -> str:
        metric = self.metric_name or self.category or self.metric_type or "metric"
        return f"{self.aggregation}({metric}) over {self.window_minutes}m {self.operator} {self.threshold:g}"

    def fingerprint(self) -> str:
        return f"rule:{self.pk}"

    def pending_long_enough(self, now: datetime) -> bool:
        return self.pending_since is not None and now - self.pending_since >= timedelta(
            minutes=self.duration_minutes
        )

    def kept_firing_long_enough(self, now: datetime) -> bool:
        cleared = self.condition_cleared_at
        return cleared is not None and now - cleared >= timedelta(minutes=self.keep_firing_for_minutes)


class AlertQuerySet(models.QuerySet):
    def open(self):
        return self.exclude(status=Alert.Status.RESOLVED)

    def unacknowledged(self):
        return self.filter(status=Alert.Status.FIRING)


class Alert(models.Model):
    class Status(models.TextChoices):
        FIRING = "firing", "Firing"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    class Type(models.TextChoices):
        METRIC = "metric", "Metric rule"
        PROBE = "probe", "Component probe"
        CHECK = "check", "Heartbeat check"
        MANUAL = "manual", "Manual"
        EXTERNAL = "external", "Alertmanager"
        META = "meta", "Vigil itself"
        DRILL = "drill", "Paging drill"
        SLO = "slo", "Service level objective"

    rule = models.ForeignKey(
        AlertRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    alert_type = models.CharField(max_length=10, choices=Type.choices, default=Type.METRIC)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.HIGH)
    title = models.CharField(max_length=300)
    message = models.TextField(blank=True)
    metric = models.CharField(max_length=200, blank=True)
    value = models.FloatField(null=True, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    labels = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.FIRING)
    fingerprint = models.CharField(max_length=200)
    channels = models.ManyToManyField(
        "notifications.Channel",
        blank=True,
        related_name="+",
        help_text="Where its source routes it (a heartbeat check's channels); none: its rule's, else all.",
    )
    component = models.ForeignKey(
        "statuspage.Component", null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    escalation_policy = models.ForeignKey(
        "oncall.EscalationPolicy",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who is paged for it in place of its rule's policy (a paging drill's policy).",
    )
    # The public incident declared from it (alerts.services.alert_declare_incident): declaring
    # again while that incident is open gives the same one back.
    incident = models.ForeignKey(
        "statuspage.Incident", null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )

    fired_at = models.DateTimeField(default=timezone.now)
    last_fired_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledgement_note = models.TextField(blank=True)
    # The first acknowledgement ever, kept when the alert is reopened: time to acknowledge is
    # measured to it (alerts.response_times), without reading the events of every alert.
    first_acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution_note = models.TextField(blank=True)
    action_taken = models.TextField(blank=True)
    occurrence_count = models.PositiveIntegerField(default=1)
    occurrence_key = models.CharField(
        max_length=100,
        blank=True,
        help_text="The source's name for the current occurrence (Alertmanager's startsAt): "
        "a re-sent notice with the same key is not counted again.",
    )
    last_value = models.FloatField(null=True, blank=True)

    # Notification bookkeeping: an alert that was announced as firing is announced as resolved.
    suppressed_reason = models.CharField(max_length=200, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    resolution_notified_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    escalation_repeats = models.PositiveSmallIntegerField(default=0)
    next_escalation_at = models.DateTimeField(null=True, blank=True)
    # How many times the whole policy has started again after its last step.
    escalation_cycle = models.PositiveSmallIntegerField(default=0)
    # Bumped by every escalation and lifecycle change, so a stale escalation run (a duplicate
    # or redelivered task that read the row earlier) sees a different token and does nothing.
    escalation_token = models.PositiveIntegerField(default=0)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-fired_at"]
        constraints = [
            # Dedup: at most one open alert per fingerprint; a repeat raises occurrence_count.
            models.UniqueConstraint(
                fields=["fingerprint"], condition=~Q(status="resolved"), name="alert_one_open_per_fingerprint"
            )
        ]
        indexes = [
            # The escalation sweeper: open alerts whose next escalation is due.
            models.Index(fields=["status", "next_escalation_at"], name="alert_escalation_due"),
            models.Index(fields=["status", "-fired_at"], name="alert_status_fired"),
            # Response times: every alert fired in the last N days, whatever its status.
            models.Index(fields=["fired_at"], name="alert_fired_at"),
        ]

    def __str__(self) -> str:
        return f"[{self.severity}] {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.RESOLVED


class AlertEvent(models.Model):
    """Append-only timeline of an alert."""

    class Kind(models.TextChoices):
        FIRED = "fired", "Fired"
        REPEATED = "repeated", "Repeated"
        NOTIFIED = "notified", "Notified"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        ESCALATED = "escalated", "Escalated"
        PAGED = "paged", "Paged a person"
        SILENCED = "silenced", "Silenced"
        SUPPRESSED = "suppressed", "Suppressed"
        FLAPPING = "flapping", "Flapping"
        RESOLVED = "resolved", "Resolved"
        REOPENED = "reopened", "Reopened"
        INCIDENT = "incident", "Incident declared"

    class Actor(models.TextChoices):
        USER = "user", "User"
        RULE = "rule", "Rule"
        SYSTEM = "system", "System"
        # Someone answering a notification channel (a key pressed on a voice call): the detail
        # names the channel and the number.
        CHANNEL = "channel", "Notification channel"

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor_type = models.CharField(max_length=8, choices=Actor.choices, default=Actor.SYSTEM)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # Who acted when no logged-in user did: the recipient of a signed action link, a Slack user.
    actor_name = models.CharField(max_length=300, blank=True)
    # Through what a person acted (api, admin, console, link, ...): the timeline shows how an
    # alert was acknowledged. Blank for the system's own events and for events from before.
    via = models.CharField(max_length=20, blank=True)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} at {self.at:%Y-%m-%d %H:%M:%S}"


class AlertMessage(models.Model):
    """An outbox message that told people about an alert: the alert's timeline reads its
    deliveries through these rows. A grouped message (a storm) has one row per alert in it.
    Written by alerts.notify only, next to the message itself, in the same transaction."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="message_links")
    message = models.ForeignKey("notifications.Message", on_delete=models.CASCADE, related_name="alert_links")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["alert", "message"], name="alertmessage_unique")]

    def __str__(self) -> str:
        return f"alert {self.alert_id} message {self.message_id}"


class SilenceQuerySet(models.QuerySet):
    def active(self, now=None):
        now = now or timezone.now()
        return self.filter(starts_at__lte=now, ends_at__gt=now)


class Silence(models.Model):
    """Alerts whose labels match every matcher, between starts_at and ends_at, are recorded
    but not notified."""

    matchers = models.JSONField(
        help_text='List of {"label": ..., "op": "=" | "!=" | "=~", "value": ...}; all must match.'
    )
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SilenceQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return ", ".join(f"{m['label']}{m['op']}{m['value']}" for m in self.matchers)

    def matches(self, labels: dict) -> bool:
        return matchers_match(self.matchers, labels)

    def clean(self):
        matchers = self.matchers
        if not isinstance(matchers, list) or not all(isinstance(m, dict) for m in matchers):
            raise ValidationError({"matchers": 'Expected a list of {"label", "op", "value"} objects.'})
        problems = [
            f"Matcher {index + 1}: {' '.join(found)}"
            for index, found in enumerate(matcher_problems(m) for m in matchers)
            if found
        ]
        if problems:
            raise ValidationError({"matchers": problems})


class PagingDrill(models.Model):
    """A rehearsal of an escalation policy: a clearly marked alert that pages through the policy's
    real path (schedules, people, their contact methods, the providers), and what became of it.
    Written only by alerts.drills."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Waiting for an acknowledgement"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        MISSED = "missed", "Not acknowledged in time"

    policy = models.ForeignKey("oncall.EscalationPolicy", on_delete=models.CASCADE, related_name="drills")
    alert = models.OneToOneField(Alert, null=True, on_delete=models.SET_NULL, related_name="drill")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The weekly slot it was started for; none when started by hand.
    scheduled_for = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    answer_by = models.DateTimeField(
        help_text="Unacknowledged by then, the drill is missed and raises an alert."
    )
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.PENDING)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    settled_at = models.DateTimeField(null=True, blank=True)
    missed_alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "scheduled_for"], name="alerts_drill_one_per_slot"),
        ]
        indexes = [
            models.Index(
                fields=["answer_by"], condition=models.Q(outcome="pending"), name="drill_pending_idx"
            )
        ]

    def __str__(self) -> str:
        return f"Drill of {self.policy} at {self.started_at:%Y-%m-%d %H:%M}"
