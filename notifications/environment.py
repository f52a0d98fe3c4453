"""The channels the environment asks for (EMAIL_*, SLACK_*, WEBHOOK_*, SMS_*, VOICE_* settings),
created once each."""

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from notifications.models import Channel, NotificationError, new_signing_secret


def _env_channels() -> list[tuple[str, dict]]:
    wanted = [
        # Always: staff must see critical news somewhere even with no external channel set up.
        ("env:dashboard", {"name": "Staff dashboard", "kind": Channel.Kind.DASHBOARD}),
    ]
    if settings.EMAIL_NOTIFICATIONS_ENABLED:
        wanted.append(
            (
                "env:email",
                {
                    "name": "E-mail (EMAIL_RECIPIENTS)",
                    "kind": Channel.Kind.EMAIL,
                    "recipients": "\n".join(settings.EMAIL_RECIPIENTS),
                },
            )
        )
    if settings.SLACK_NOTIFICATIONS_ENABLED:
        wanted.append(
            ("env:slack", {"name": "Slack", "kind": Channel.Kind.SLACK, "url": settings.SLACK_WEBHOOK_URL})
        )
    if settings.WEBHOOK_NOTIFICATIONS_ENABLED:
        for url in settings.WEBHOOK_URLS:
            key = "env:webhook:" + hashlib.sha256(url.encode()).hexdigest()[:16]
            host = url.partition("://")[2].split("/", 1)[0]
            wanted.append(
                (
                    key,
                    {
                        "name": f"Webhook {host}"[:100],
                        "kind": Channel.Kind.WEBHOOK,
                        "url": url,
                        "secret": settings.WEBHOOK_SECRET or new_signing_secret(),
                    },
                )
            )
    for kind, enabled, numbers, name in (
        (
            Channel.Kind.SMS,
            settings.SMS_NOTIFICATIONS_ENABLED,
            settings.SMS_RECIPIENTS,
            "SMS (SMS_RECIPIENTS)",
        ),
        (
            Channel.Kind.VOICE,
            settings.VOICE_NOTIFICATIONS_ENABLED,
            settings.VOICE_RECIPIENTS,
            "Voice calls (VOICE_RECIPIENTS)",
        ),
    ):
        if enabled:
            twilio = {
                "account_sid": settings.TWILIO_ACCOUNT_SID,
                "token": settings.TWILIO_AUTH_TOKEN,
                "from_number": settings.TWILIO_FROM_NUMBER,
            }
            # Paging by phone is for what needs someone now: a low alert must not ring at 3 a.m.
            fields = {"name": name, "kind": kind, "recipients": "\n".join(numbers), "min_severity": "high"}
            wanted.append((f"env:{kind}", {**fields, **twilio}))
    return wanted


def channels_sync_from_settings() -> list[str]:
    """Create the channels the environment asks for, once each (keyed by env_key).

    Idempotent and additive: an existing row is never changed, so what staff edited in the
    admin (recipients, minimum severity, disabled) survives every deploy. Returns one line per
    channel saying what happened."""
    lines = []
    for env_key, fields in _env_channels():
        if Channel.objects.filter(env_key=env_key).exists():
            lines.append(f"{fields['name']}: already there")
            continue
        channel = Channel(env_key=env_key, **fields)
        try:
            channel.full_clean(exclude=["env_key"])
        except ValidationError as exc:
            raise NotificationError(
                f"channel {fields['name']!r} from the environment: {exc.messages}"
            ) from None
        try:
            with transaction.atomic():
                channel.save()
        except IntegrityError:  # a concurrent sync created it first
            lines.append(f"{fields['name']}: already there")
            continue
        lines.append(f"{fields['name']}: created")
    return lines
