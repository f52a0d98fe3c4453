"""Subscribers of the status page: e-mail addresses, and URLs (signed webhooks, Slack and
Microsoft Teams incoming webhooks).

One row per normalised address, and one per (kind, URL). A URL subscriber is confirmed when its
URL answered a challenge (webhooks) or took a test message (Slack, Teams); a webhook subscriber
also has a signing secret, kept in clear because every delivery is signed with it.

Two kinds of secret link:
- the confirmation token is random (256 bits), stored only as its SHA-256 digest, and expires
  SUBSCRIBERS_CONFIRM_HOURS after it was issued; subscribing again issues a new one and the old
  one stops working;
- the manage token (unsubscribe and component choice) is random (256 bits) and per row, so a
  leaked or changed link tells nothing about any other subscriber. It is stored in clear because
  every incident mail carries it, and it never expires (an unsubscribe link must keep working).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from core.outbound import redact_url
from core.tokens import new_token


class SubscriberStatus(models.TextChoices):
    PENDING = "pending", gettext_noop("Pending")
    CONFIRMED = "confirmed", gettext_noop("Confirmed")
    UNSUBSCRIBED = "unsubscribed", gettext_noop("Unsubscribed")


class SubscriberKind(models.TextChoices):
    EMAIL = "email", "E-mail"
    WEBHOOK = "webhook", "Webhook"
    SLACK = "slack", "Slack"
    TEAMS = "teams", "Microsoft Teams"


URL_KINDS = (SubscriberKind.WEBHOOK, SubscriberKind.SLACK, SubscriberKind.TEAMS)


class Subscriber(models.Model):
    kind = models.CharField(max_length=10, choices=SubscriberKind.choices, default=SubscriberKind.EMAIL)
    email = models.CharField(
        max_length=254, blank=True, help_text="Normalised: trimmed, domain in lower case."
    )
    url = models.CharField(max_length=1000, blank=True, help_text="Webhook, Slack and Teams subscribers.")
    secret = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="Webhook subscribers: the HMAC-SHA256 signing secret, shown once when it is issued.",
    )
    verify_error = models.TextField(
        blank=True, help_text="Why the URL's last challenge or test message did not succeed."
    )
    status = models.CharField(
        max_length=16, choices=SubscriberStatus.choices, default=SubscriberStatus.PENDING
    )
    components = models.ManyToManyField(
        "statuspage.Component",
        blank=True,
        related_name="subscribers",
        help_text="None chosen: every component.",
        # The tables were created when subscribers lived in the statuspage app; they keep their names.
        db_table="statuspage_subscriber_components",
    )
    language = models.CharField(
        max_length=16,
        blank=True,
        help_text="The language they subscribed in, which their mail is written in. Blank: the default.",
    )
    manage_token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    confirm_token_digest = models.CharField(max_length=64, blank=True, editable=False)
    confirm_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "statuspage_subscriber"
        ordering = ["-created_at", "-id"]
        constraints = [
            # One row per address whatever the case of its local part, so one person never
            # gets two copies of a mail and one unsubscribe always covers them.
            models.UniqueConstraint(
                Lower("email"), condition=Q(kind="email"), name="sp_subscriber_email_once"
            ),
            # One row per URL and kind: one receiver never gets a message twice.
            models.UniqueConstraint(
                fields=["kind", "url"], condition=~Q(kind="email"), name="subscriber_url_once"
            ),
        ]
        indexes = [
            # The fan-out reads confirmed rows in id order.
            models.Index(fields=["status", "id"], name="sp_subscriber_status"),
            models.Index(fields=["confirm_token_digest"], name="sp_subscriber_confirm"),
        ]

    def __str__(self) -> str:
        if self.kind == SubscriberKind.EMAIL:
            return self.email
        # A Slack or Teams URL is its own credential: only its host is ever shown.
        return f"{self.get_kind_display()}: {redact_url(self.url)}"

    def confirm_expires_at(self) -> datetime | None:
        if self.confirm_sent_at is None:
            return None
        return self.confirm_sent_at + timedelta(hours=settings.SUBSCRIBERS_CONFIRM_HOURS)

    def confirm_expired(self, now: datetime | None = None) -> bool:
        expires = self.confirm_expires_at()
        return expires is None or (now or timezone.now()) >= expires

    def links(self) -> dict[str, str]:
        """The per-recipient context every mail to this subscriber carries."""
        return subscriber_links(self.manage_token)


def subscriber_links(manage_token: str) -> dict[str, str]:
    base = settings.PUBLIC_URL
    unsubscribe = base + reverse("subscribers:unsubscribe", args=[manage_token])
    return {
        "unsubscribe_url": unsubscribe,
        # The same URL unsubscribes on POST without a page (RFC 8058 one-click).
        "unsubscribe_one_click_url": unsubscribe,
        "manage_url": base + reverse("subscribers:manage", args=[manage_token]),
    }
