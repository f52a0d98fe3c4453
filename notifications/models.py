"""The delivery outbox: channels, messages, one delivery row per recipient, every attempt.

A Message is what a producer wants said; a Delivery is one recipient of it (unique on an
idempotency key, so it can never exist twice); a DeliveryAttempt is one try at sending it.
StaffNotification is the in-app ("dashboard") inbox that staff see in the admin.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core import outbound
from notifications.formats import (
    E164,
    GOTIFY_TOKEN,
    NTFY_TOPIC,
    OPSGENIE_API_KEY,
    PAGERDUTY_ROUTING_KEY,
    TELEGRAM_BOT_TOKEN,
    TELEGRAM_CHAT,
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
)


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


SEVERITY_RANK = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}


def new_signing_secret() -> str:
    return secrets.token_urlsafe(32)


class Channel(models.Model):
    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        SLACK = "slack", "Slack"
        WEBHOOK = "webhook", "Webhook"
        DASHBOARD = "dashboard", "Dashboard"
        NTFY = "ntfy", "ntfy"
        DISCORD = "discord", "Discord"
        TEAMS = "teams", "Microsoft Teams"
        TELEGRAM = "telegram", "Telegram"
        MATTERMOST = "mattermost", "Mattermost"
        GOTIFY = "gotify", "Gotify"
        SMS = "sms", "SMS (Twilio)"
        VOICE = "voice", "Voice call (Twilio)"
        SMS_GATEWAY = "sms_gateway", "SMS (HTTP gateway)"
        PAGERDUTY = "pagerduty", "PagerDuty"
        OPSGENIE = "opsgenie", "Opsgenie"
        SLACK_BOT = "slack_bot", "Slack (bot: direct messages)"

    class Method(models.TextChoices):
        POST = "POST", "POST"
        PUT = "PUT", "PUT"
        GET = "GET", "GET"

    class ContentType(models.TextChoices):
        JSON = "json", "JSON (application/json)"
        FORM = "form", "Form (application/x-www-form-urlencoded)"

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    enabled = models.BooleanField(default=True)
    min_severity = models.CharField(
        max_length=10,
        choices=Severity.choices,
        default=Severity.LOW,
        help_text="Messages below this severity are not sent to this channel.",
    )
    recipients = models.TextField(
        blank=True,
        help_text="E-mail channels: addresses; SMS and voice channels: phone numbers in E.164 form "
        "(+14155550100). One per line or comma-separated.",
    )
    url = models.CharField(
        max_length=1000,
        blank=True,
        help_text=(
            "The webhook URL; for Gotify the server; for ntfy, PagerDuty and Opsgenie the server "
            "(optional: blank for the default, e.g. api.eu.opsgenie.com for Opsgenie's EU region); "
            "for an SMS gateway the URL each message is sent to."
        ),
    )
    secret = models.CharField(
        max_length=200,
        blank=True,
        default=new_signing_secret,
        help_text="Webhook channels: HMAC-SHA256 signing secret (X-Vigil-Signature).",
    )
    destination = models.CharField(
        max_length=200,
        blank=True,
        help_text="ntfy channels: the topic. Telegram channels: the chat id (or @channel). Slack bot "
        "channels: the conversation id (C…) it posts to (optional: without one, it only sends people's "
        "direct messages).",
    )
    token = models.CharField(
        max_length=500,
        blank=True,
        help_text=(
            "ntfy: an access token (optional). Telegram: the bot token. Gotify: the application token. "
            "PagerDuty: the integration's routing key. Opsgenie: the API integration's key. "
            "Twilio (SMS, voice): the auth token. Slack bot: the bot user OAuth token (xoxb-…)."
        ),
    )
    # Twilio (sms, voice): the account that sends, and the number it sends from.
    account_sid = models.CharField(
        max_length=34,
        blank=True,
        help_text="Twilio channels: the account SID (AC followed by 32 hex digits).",
    )
    from_number = models.CharField(
        max_length=16,
        blank=True,
        help_text="Twilio channels: the number messages and calls come from, in E.164 form.",
    )
    # The generic HTTP SMS gateway: how one message is sent to one number.
    http_method = models.CharField(
        max_length=6,
        choices=Method.choices,
        default=Method.POST,
        blank=True,
        help_text="SMS gateway channels.",
    )
    content_type = models.CharField(
        max_length=6,
        choices=ContentType.choices,
        default=ContentType.JSON,
        blank=True,
        help_text="SMS gateway channels: how the body template's values are escaped (GET sends it as the "
        "query string, form-encoded).",
    )
    request_headers = models.TextField(
        blank=True,
        help_text="SMS gateway channels: extra headers, one 'Name: value' per line (an API key, say). "
        "Kept secret like a token.",
    )
    body_template = models.TextField(
        blank=True,
        help_text="SMS gateway channels: the request body, with $to, $text, $severity and $link, e.g. "
        '{"to": "$to", "message": "$text"} for JSON or to=$to&message=$text for a form.',
    )
    # Set on rows created from the environment, so re-syncing never creates a second one
    # and never overwrites what staff changed in the admin since.
    env_key = models.CharField(max_length=200, null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def admits(self, severity: str) -> bool:
        return SEVERITY_RANK[Severity(severity)] >= SEVERITY_RANK[Severity(self.min_severity)]

    def recipient_list(self) -> list[str]:
        if self.kind == self.Kind.EMAIL:
            parts = self.recipients.replace(",", "\n").splitlines()
            return list(dict.fromkeys(p.strip() for p in parts if p.strip()))
        if self.kind in URL_KINDS or self.kind == self.Kind.GOTIFY:
            return [self.url] if self.url else []
        if self.kind in (self.Kind.TELEGRAM, self.Kind.SLACK_BOT):
            return [self.destination] if self.destination else []
        if self.kind in PHONE_KINDS:
            parts = self.recipients.replace(",", "\n").splitlines()
            return list(dict.fromkeys(p.strip() for p in parts if p.strip()))
        if self.kind == self.Kind.NTFY:
            server = (self.url or settings.NTFY_URL).rstrip("/")
            return [f"{server}/{self.destination}"] if self.destination else []
        if self.kind in INCIDENT_TOOL_KINDS:
            # The server, and a digest of the key that tells two integrations on one server apart
            # (so each is its own delivery) without putting the key itself in the row.
            server = (self.url or self.default_server()).rstrip("/")
            digest = hashlib.sha256(self.token.encode()).hexdigest()[:12]
            return [f"{server}#{digest}"] if self.token else []
        # One dashboard delivery per message, shown to every staff user (see StaffNotification).
        return [DASHBOARD_RECIPIENT]

    def default_server(self) -> str:
        if self.kind == self.Kind.PAGERDUTY:
            return settings.PAGERDUTY_EVENTS_URL
        if self.kind == self.Kind.OPSGENIE:
            return settings.OPSGENIE_API_URL
        return settings.NTFY_URL

    def takes(self, message_kind: str) -> bool:
        """Whether this channel is told of messages of this kind. An incident tool only hears
        what opens, acknowledges or closes an incident in it (INCIDENT_TOOL_MESSAGE_KINDS): a
        flapping notice or a maintenance reminder would open one that nothing ever closes."""
        return self.kind not in INCIDENT_TOOL_KINDS or message_kind in INCIDENT_TOOL_MESSAGE_KINDS

    def clean(self) -> None:
        # Only SMS gateways use them; the other kinds' forms may leave them empty.
        self.http_method = self.http_method or self.Method.POST
        self.content_type = self.content_type or self.ContentType.JSON
        if self.kind == self.Kind.EMAIL:
            if not self.recipient_list():
                raise ValidationError({"recipients": "An e-mail channel needs at least one address."})
            for address in self.recipient_list():
                try:
                    validate_email(address)
                except ValidationError:
                    raise ValidationError({"recipients": f"{address!r} is not a valid address."}) from None
        if self.kind in PHONE_KINDS:
            self._clean_phone_channel()
        optional_server = (self.Kind.NTFY, *INCIDENT_TOOL_KINDS)
        url_kinds = (*URL_KINDS, self.Kind.GOTIFY, self.Kind.SMS_GATEWAY)
        if self.kind in url_kinds or (self.kind in optional_server and self.url):
            problem = outbound.check_url(self.url, outbound.WEBHOOK)
            if problem:
                raise ValidationError({"url": problem})
        if self.kind == self.Kind.NTFY and not NTFY_TOPIC.fullmatch(self.destination):
            raise ValidationError({"destination": "An ntfy topic is 1 to 64 letters, digits, '-' or '_'."})
        if self.kind == self.Kind.TELEGRAM:
            if not TELEGRAM_BOT_TOKEN.fullmatch(self.token):
                raise ValidationError(
                    {"token": "A Telegram bot token looks like 123456789:AAH… (from @BotFather)."}
                )
            if not TELEGRAM_CHAT.fullmatch(self.destination):
                raise ValidationError(
                    {"destination": "A Telegram chat is a numeric id (-100… for groups) or a @channelname."}
                )
        if self.kind == self.Kind.GOTIFY and not GOTIFY_TOKEN.fullmatch(self.token):
            raise ValidationError(
                {"token": "A Gotify channel needs the application token of an app on that server."}
            )
        if self.kind == self.Kind.PAGERDUTY and not PAGERDUTY_ROUTING_KEY.fullmatch(self.token):
            raise ValidationError(
                {"token": "A PagerDuty routing key is the 32 letters and digits of an Events API v2 key."}
            )
        if self.kind == self.Kind.OPSGENIE and not OPSGENIE_API_KEY.fullmatch(self.token):
            raise ValidationError(
                {"token": "An Opsgenie API key looks like 1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718."}
            )
        if self.kind == self.Kind.SLACK_BOT:
            self._clean_slack_bot()
        if self.kind == self.Kind.WEBHOOK and not self.secret:
            raise ValidationError({"secret": "A webhook channel needs a signing secret."})

    def _clean_slack_bot(self) -> None:
        from notifications.slack_bot import SLACK_BOT_TOKEN, SLACK_CONVERSATION

        if not SLACK_BOT_TOKEN.fullmatch(self.token):
            raise ValidationError(
                {"token": "A Slack bot token starts with xoxb- (the app's OAuth & Permissions page)."}
            )
        if self.destination and not SLACK_CONVERSATION.fullmatch(self.destination):
            raise ValidationError(
                {"destination": "A Slack conversation id looks like C0123456789 (the channel's details)."}
            )

    def _clean_phone_channel(self) -> None:
        numbers = self.recipient_list()
        if not numbers:
            raise ValidationError({"recipients": "List at least one phone number to send to."})
        for number in numbers:
            if not E164.fullmatch(number):
                raise ValidationError(
                    {"recipients": f"{number!r} is not a number in E.164 form, such as +14155550100."}
                )
        if self.kind == self.Kind.SMS_GATEWAY:
            from core.http_headers import headers_problem
            from notifications.sms_gateway import template_problem

            # A GET sends the template as its query string: form-encoded, whatever the content type.
            is_json = self.content_type == self.ContentType.JSON and self.http_method != self.Method.GET
            problem = template_problem(
                self.body_template, self.content_type if is_json else self.ContentType.FORM
            )
            if problem:
                raise ValidationError({"body_template": problem})
            problem = headers_problem(self.request_headers)
            if problem:
                raise ValidationError({"request_headers": problem})
            return
        if not TWILIO_ACCOUNT_SID.fullmatch(self.account_sid):
            raise ValidationError({"account_sid": "A Twilio account SID is AC followed by 32 hex digits."})
        if not TWILIO_AUTH_TOKEN.fullmatch(self.token):
            raise ValidationError({"token": "A Twilio auth token is 32 hex digits (the console shows it)."})
        if not E164.fullmatch(self.from_number):
            raise ValidationError(
                {"from_number": "The from number must be in E.164 form, such as +14155550100."}
            )


DASHBOARD_RECIPIENT = "staff"
# Kinds whose one recipient is the channel's URL (a webhook that carries its credential).
URL_KINDS = (
    Channel.Kind.SLACK,
    Channel.Kind.WEBHOOK,
    Channel.Kind.DISCORD,
    Channel.Kind.TEAMS,
    Channel.Kind.MATTERMOST,
)
# Kinds whose recipients are phone numbers, one delivery each.
PHONE_KINDS = (Channel.Kind.SMS, Channel.Kind.VOICE, Channel.Kind.SMS_GATEWAY)
# Incident tools: an alert is one incident there, triggered, acknowledged and resolved under one
# key (notifications/incident_tools.py), so they get one message per alert, never a group.
INCIDENT_TOOL_KINDS = (Channel.Kind.PAGERDUTY, Channel.Kind.OPSGENIE)
# The message kinds an incident tool is told of: each opens, acknowledges or closes an incident.
INCIDENT_TOOL_MESSAGE_KINDS = frozenset(
    {
        "alert.firing",
        "alert.escalated",
        "alert.acknowledged",
        "alert.resolved",
        "incident.created",
        "incident.updated",
        "incident.resolved",
        "maintenance.started",
        "maintenance.completed",
        "test",
    }
)
# Kinds whose delivery recipient is a URL, shown with its host only.
URL_RECIPIENT_KINDS = (*URL_KINDS, Channel.Kind.NTFY, Channel.Kind.GOTIFY, *INCIDENT_TOOL_KINDS)


class Message(models.Model):
    kind = models.CharField(max_length=100, help_text="What produced it, e.g. incident.update, alert.firing.")
    subject = models.CharField(max_length=300)
    template = models.CharField(max_length=100, blank=True, help_text="templates/notifications/<name>.*")
    context = models.JSONField(default=dict, blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    dedup_key = models.CharField(
        max_length=200, unique=True, help_text="A producer retry with the same key gets this message back."
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # What the message is about ("alert:42"), so a producer can cancel what is still pending
    # about it, or ask whom it reached.
    thread = models.CharField(max_length=100, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.subject


class DeliveryQuerySet(models.QuerySet):
    def due(self, now: datetime) -> "DeliveryQuerySet":
        """Pending, due, and not claimed by a live worker (never claimed, or its claim expired)."""
        return self.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now).filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
        )

    def claimable(self, now: datetime) -> "DeliveryQuerySet":
        """Due and still within its maximum age: a row past give_up_at is failed, not sent."""
        return self.due(now).filter(give_up_at__gt=now)

    def overdue(self, now: datetime) -> "DeliveryQuerySet":
        """Due rows past their maximum age (a retry is never scheduled past it, so these are
        rows whose sends never got an answer recorded)."""
        return self.due(now).filter(give_up_at__lte=now)


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries")
    # Null for explicit (subscriber) recipients that no channel row stands for.
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    kind = models.CharField(max_length=20, choices=Channel.Kind.choices)
    recipient = models.CharField(max_length=1000)
    # The person this delivery pages (an escalation reaching someone's own contact method).
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    context = models.JSONField(default=dict, blank=True, help_text="Per-recipient template context.")
    idempotency_key = models.CharField(max_length=80, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    attempt_limit = models.PositiveIntegerField(default=8)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    give_up_at = models.DateTimeField()
    # A claim is a lease: the worker holding claim_token owns the row until claimed_until.
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-id"]
        indexes = [
            # The sweeper's query: pending rows by due time; sent/failed rows stay out of it.
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="delivery_due_idx"),
            # Per-message progress counts and the "by message" filter.
            models.Index(fields=["message", "status"], name="delivery_message_status_idx"),
            models.Index(fields=["status", "-id"], name="delivery_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient_display()}"

    @staticmethod
    def make_key(message_id: int, kind: str, recipient: str) -> str:
        """recipient + message. E-mail addresses compare case-insensitively, so one person
        listed twice (a channel and a subscriber list) gets one mail."""
        normal = recipient.strip().lower() if kind == Channel.Kind.EMAIL else recipient.strip()
        digest = hashlib.sha256(f"{kind}:{normal}".encode()).hexdigest()[:32]
        return f"m{message_id}-{kind}-{digest}"

    def recipient_display(self) -> str:
        # Webhook URLs may carry tokens (Slack's always do): show only scheme and host.
        if self.kind in URL_RECIPIENT_KINDS:
            return outbound.redact_url(self.recipient)
        return self.recipient

    def retry_at(self, *, now: datetime, delay: float, attempts: int) -> datetime | None:
        """When to try again after a transient failure (`attempts` made so far, this one
        included), or None when the attempt or age cap says to give up."""
        if attempts >= self.attempt_limit:
            return None
        when = now + timedelta(seconds=delay)
        return None if when > self.give_up_at else when


def default_give_up_at(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(hours=settings.NOTIFICATIONS_MAX_AGE_HOURS)


class DeliveryAttempt(models.Model):
    class Outcome(models.TextChoices):
        SENT = "sent", "Sent"
        RETRY = "retry", "Failed, will retry"
        FAILED = "failed", "Failed permanently"

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField(db_index=True)
    duration_ms = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.outcome} at {self.started_at:%Y-%m-%d %H:%M:%S}"


class StaffNotification(models.Model):
    """One in-app notification that every staff user sees; read marks are per user.

    One row for all staff rather than one per user: the staff list changes (someone joins the
    on-call rota and should see what is open), and one row keeps a 100-staff installation from
    writing 100 rows per alert."""

    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    # Makes writing it idempotent: the delivery's key, or "failed:<message>:<channel>" for the
    # notice that deliveries failed (one notice per message and channel, with a count).
    dedup_key = models.CharField(max_length=200, unique=True)
    count = models.PositiveIntegerField(default=1)
    delivery = models.OneToOneField(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="staff_notification"
    )
    link = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    read_by = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="StaffNotificationRead", related_name="+", blank=True
    )

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.title


class StaffNotificationRead(models.Model):
    notification = models.ForeignKey(StaffNotification, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["notification", "user"], name="staff_notification_read_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} read {self.notification_id}"


class NotificationError(ValueError):
    """A producer or an operator asked for something the outbox cannot do."""
