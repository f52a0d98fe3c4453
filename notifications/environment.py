"""The channels the environment asks for, created once each: EMAIL_*, SLACK_*, WEBHOOK_*, SMS_* and
VOICE_* (Twilio), and one channel for each push, chat or incident-tool variable set (NTFY_TOPIC,
DISCORD_WEBHOOK_URL, TEAMS_WEBHOOK_URL, TELEGRAM_BOT_TOKEN + TELEGRAM_CHAT_ID,
MATTERMOST_WEBHOOK_URL, GOTIFY_URL + GOTIFY_TOKEN, PAGERDUTY_ROUTING_KEY, OPSGENIE_API_KEY). The
settings check each value's shape at start-up; the sync checks the rest (a public address) and
names the variable when it refuses."""

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
    return wanted + [(key, fields) for key, fields, _ in _provider_channels()]


# Which variable set each field of a provider channel, for an error that names it.
def _provider_channels() -> list[tuple[str, dict, dict[str, str]]]:
    wanted = []

    def add(key: str, name: str, kind: str, **fields: tuple[str, str]) -> None:
        """fields: model field -> (variable, value); only added when the first value is set."""
        values = {field: value for field, (_, value) in fields.items()}
        if next(iter(values.values())):
            variables = {field: variable for field, (variable, _) in fields.items()}
            wanted.append((key, {"name": name, "kind": kind, **values}, variables))

    add(
        "env:ntfy",
        "ntfy (NTFY_TOPIC)",
        Channel.Kind.NTFY,
        destination=("NTFY_TOPIC", settings.NTFY_TOPIC),
        token=("NTFY_TOKEN", settings.NTFY_TOKEN),
    )
    add(
        "env:discord",
        "Discord",
        Channel.Kind.DISCORD,
        url=("DISCORD_WEBHOOK_URL", settings.DISCORD_WEBHOOK_URL),
    )
    add(
        "env:teams",
        "Microsoft Teams",
        Channel.Kind.TEAMS,
        url=("TEAMS_WEBHOOK_URL", settings.TEAMS_WEBHOOK_URL),
    )
    add(
        "env:telegram",
        "Telegram",
        Channel.Kind.TELEGRAM,
        token=("TELEGRAM_BOT_TOKEN", settings.TELEGRAM_BOT_TOKEN),
        destination=("TELEGRAM_CHAT_ID", settings.TELEGRAM_CHAT_ID),
    )
    add(
        "env:mattermost",
        "Mattermost",
        Channel.Kind.MATTERMOST,
        url=("MATTERMOST_WEBHOOK_URL", settings.MATTERMOST_WEBHOOK_URL),
    )
    add(
        "env:gotify",
        "Gotify",
        Channel.Kind.GOTIFY,
        url=("GOTIFY_URL", settings.GOTIFY_URL),
        token=("GOTIFY_TOKEN", settings.GOTIFY_TOKEN),
    )
    add(
        "env:pagerduty",
        "PagerDuty",
        Channel.Kind.PAGERDUTY,
        token=("PAGERDUTY_ROUTING_KEY", settings.PAGERDUTY_ROUTING_KEY),
    )
    add(
        "env:opsgenie",
        "Opsgenie",
        Channel.Kind.OPSGENIE,
        token=("OPSGENIE_API_KEY", settings.OPSGENIE_API_KEY),
    )
    return wanted


def _variables() -> dict[str, dict[str, str]]:
    return {key: variables for key, _, variables in _provider_channels()}


def channels_sync_from_settings() -> list[str]:
    """Create the channels the environment asks for, once each (keyed by env_key).

    Idempotent and additive: an existing row is never changed, so what staff edited in the
    admin (recipients, minimum severity, disabled) survives every deploy. Returns one line per
    channel saying what happened."""
    lines = []
    variables = _variables()
    for env_key, fields in _env_channels():
        if Channel.objects.filter(env_key=env_key).exists():
            lines.append(f"{fields['name']}: already there")
            continue
        channel = Channel(env_key=env_key, **fields)
        try:
            channel.full_clean(exclude=["env_key"])
        except ValidationError as exc:
            named = variables.get(env_key, {})
            problems = [
                f"{named.get(field, field)}: {' '.join(messages)}"
                for field, messages in exc.message_dict.items()
            ]
            raise NotificationError(
                f"channel {fields['name']!r} from the environment: {'; '.join(problems)}"
            ) from None
        try:
            with transaction.atomic():
                channel.save()
        except IntegrityError:  # a concurrent sync created it first
            lines.append(f"{fields['name']}: already there")
            continue
        lines.append(f"{fields['name']}: created")
    return lines
