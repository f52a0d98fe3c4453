"""Senders for the push and chat providers: ntfy, Discord, Teams, Telegram, Mattermost, Gotify.

Each renders the same message from the one template context (senders.template_context: alert,
storm group, incident, maintenance, test), escapes it for the provider's format, and posts it
through senders.post_json, so it shares the outbound-URL check, the deadline, the capped
answer and the classification; what differs is the payload and how the provider's documented
error body gives its reason.
"""

import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from notifications.incident_tools import SENDERS as INCIDENT_TOOL_SENDERS
from notifications.models import Channel, Delivery, Message, Severity
from notifications.senders import (
    Explain,
    Outcome,
    ProviderAnswer,
    json_field_reason,
    post_json,
    render_text,
    slack_payload,
    template_context,
)
from notifications.slack_bot import send_slack_bot
from notifications.sms_gateway import send_sms_gateway
from notifications.telephony import send_sms, send_voice


@dataclass(frozen=True)
class Notice:
    """One message as every provider shows it, before its own escaping."""

    title: str
    body: str
    severity: str
    link: str


def notice_for(message: Message, delivery: Delivery) -> Notice:
    context = template_context(message, delivery)
    link = context.get("url")
    # Only a web address may become a link a phone opens; anything else points at the page.
    if not (isinstance(link, str) and link.startswith(("https://", "http://"))):
        link = settings.PUBLIC_URL
    return Notice(message.subject, render_text(message, context).strip(), message.severity, link)


# One colour per severity for the providers that colour a card or an embed.
SEVERITY_COLOUR = {
    Severity.CRITICAL: 0xD93025,
    Severity.HIGH: 0xF57C00,
    Severity.MEDIUM: 0xF9A825,
    Severity.LOW: 0x1E88E5,
}
# Every character CommonMark (and Discord's and Mattermost's dialects of it) gives a meaning, plus the
# mention and link brackets: each is backslash-escaped so it shows as itself.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_~|>#+\-=.!\[\](){}<@:])")


def escape_markdown(text: str) -> str:
    return MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _seconds(value: object) -> float | None:
    """A wait a provider's body names, if it is a sane number of seconds (under a day)."""
    valid = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 86400
    return float(value) if valid else None


def _post(url: str, payload: dict, headers: dict | None = None, explain: Explain | None = None) -> Outcome:
    body = json.dumps(payload, cls=DjangoJSONEncoder).encode()
    return post_json(url, body, headers or {}, explain)


# --- ntfy ------------------------------------------------------------------------------

# ntfy's priorities run from 1 (min) to 5 (max, which breaks through Do Not Disturb on phones).
NTFY_PRIORITY = {Severity.CRITICAL: 5, Severity.HIGH: 4, Severity.MEDIUM: 3, Severity.LOW: 2}
# ntfy's error body: {"code": 40301, "http": 403, "error": "forbidden", "link": "..."}.
ntfy_reason = json_field_reason("error")


def ntfy_actions(message: Message, delivery: Delivery) -> list[dict]:
    """ntfy's "view" buttons (at most three) for the first item's signed action links: each opens
    the action's confirmation page, so pressing one on a phone changes nothing by itself."""
    items = template_context(message, delivery).get("alerts") or []
    first = next((i for i in items if isinstance(i, dict) and i.get("actions")), None)
    if first is None:
        return []
    return [{"action": "view", "label": a["label"], "url": a["url"]} for a in first["actions"][:3]]


def send_ntfy(message: Message, delivery: Delivery) -> Outcome:
    # Published as JSON to the server's root (ntfy's JSON form of the Title, Priority and Click
    # headers): header values cannot carry every character a title may hold.
    server, _, topic = delivery.recipient.rpartition("/")
    notice = notice_for(message, delivery)
    payload = {
        "topic": topic,
        "title": notice.title,
        "message": notice.body,
        "priority": NTFY_PRIORITY[Severity(notice.severity)],
        "click": notice.link,
        "tags": [notice.severity],
    }
    actions = ntfy_actions(message, delivery)
    if actions:
        payload["actions"] = actions
    token = delivery.channel.token if delivery.channel else ""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return _post(server + "/", payload, headers, ntfy_reason)


# --- Discord ---------------------------------------------------------------------------


def discord_answer(answer: bytes) -> ProviderAnswer:
    """Discord's error body: {"message": "Unknown Webhook", "code": 10015}; a 429 adds
    "retry_after" in seconds (fractional, finer than the Retry-After header)."""
    told = json_field_reason("message")(answer)
    try:
        wait = json.loads(answer).get("retry_after")
    except (ValueError, AttributeError):
        wait = None
    return ProviderAnswer(told.reason, _seconds(wait))


def discord_payload(notice: Notice) -> dict:
    return {
        "embeds": [
            {
                "title": escape_markdown(notice.title)[:256],
                "description": escape_markdown(notice.body)[:4096],
                "url": notice.link,
                "color": SEVERITY_COLOUR[Severity(notice.severity)],
                "footer": {"text": f"{settings.SITE_NAME} · {notice.severity}"},
            }
        ],
        # Nobody is pinged, whatever the text says: @everyone, @here, <@id> and <@&role> stay text.
        "allowed_mentions": {"parse": []},
    }


def send_discord(message: Message, delivery: Delivery) -> Outcome:
    payload = discord_payload(notice_for(message, delivery))
    return _post(delivery.recipient, payload, explain=discord_answer)


# --- Microsoft Teams -------------------------------------------------------------------

# Adaptive Card colours are named, not numbers: the card's band and the title take them.
TEAMS_STYLE = {
    Severity.CRITICAL: ("attention", "Attention"),
    Severity.HIGH: ("warning", "Warning"),
    Severity.MEDIUM: ("accent", "Accent"),
    Severity.LOW: ("good", "Good"),
}


def teams_answer(answer: bytes) -> ProviderAnswer:
    """A Workflows URL (Power Automate) answers {"error": {"code": ..., "message": ...}}; an
    older connector URL answers plain text, which is its own reason."""
    try:
        error = json.loads(answer).get("error")
    except (ValueError, AttributeError):
        return ProviderAnswer()
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return ProviderAnswer(error["message"])
    return ProviderAnswer()


def teams_payload(notice: Notice) -> dict:
    style, colour = TEAMS_STYLE[Severity(notice.severity)]
    # TextRun shows its text as it is (a TextBlock would read it as Markdown), so no escaping
    # can be missed; JSON encoding does the rest.
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "msteams": {"width": "Full"},
        "body": [
            {
                "type": "Container",
                "style": style,
                "bleed": True,
                "items": [
                    {
                        "type": "RichTextBlock",
                        "inlines": [
                            {
                                "type": "TextRun",
                                "text": notice.title,
                                "weight": "Bolder",
                                "size": "Medium",
                                "color": colour,
                            }
                        ],
                    }
                ],
            },
            {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": notice.body}]},
            {
                "type": "RichTextBlock",
                "inlines": [{"type": "TextRun", "text": f"Severity: {notice.severity}", "isSubtle": True}],
            },
        ],
        "actions": [{"type": "Action.OpenUrl", "title": f"Open in {settings.SITE_NAME}", "url": notice.link}],
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def send_teams(message: Message, delivery: Delivery) -> Outcome:
    return _post(delivery.recipient, teams_payload(notice_for(message, delivery)), explain=teams_answer)


# --- Telegram --------------------------------------------------------------------------

# sendMessage takes at most 4096 characters of text after its entities are parsed; the body
# is cut before escaping so an entity is never cut in half.
TELEGRAM_BODY_CHARACTERS = 3000


def telegram_answer(answer: bytes) -> ProviderAnswer:
    """The Bot API's error body: {"ok": false, "error_code": 400, "description": "Bad Request:
    chat not found"}; a 429 says how long to wait in parameters.retry_after."""
    told = json_field_reason("description")(answer)
    try:
        wait = json.loads(answer)["parameters"]["retry_after"]
    except (ValueError, KeyError, TypeError):
        wait = None
    return ProviderAnswer(told.reason, _seconds(wait))


def telegram_payload(notice: Notice, chat: str) -> dict:
    text = (
        f"<b>{html.escape(notice.title)}</b>\n\n"
        f"{html.escape(notice.body[:TELEGRAM_BODY_CHARACTERS])}\n\n"
        f"<i>Severity: {notice.severity}</i> · "
        f'<a href="{html.escape(notice.link)}">Open in {html.escape(settings.SITE_NAME)}</a>'
    )
    return {
        "chat_id": chat,
        "text": text,
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
    }


def send_telegram(message: Message, delivery: Delivery) -> Outcome:
    if delivery.channel is None:
        return Outcome.failed("the Telegram channel was deleted, so there is no bot token")
    url = f"{settings.TELEGRAM_API_URL}/bot{delivery.channel.token}/sendMessage"
    payload = telegram_payload(notice_for(message, delivery), delivery.recipient)
    return _post(url, payload, explain=telegram_answer)


# --- Mattermost ------------------------------------------------------------------------

# Mattermost's error body: {"id": "...", "message": "Invalid webhook.", "status_code": 400}.
mattermost_reason = json_field_reason("message")
# A word joiner after "@" keeps @channel, @all, @here and @user from notifying anyone while it
# still reads as typed; Mattermost has no switch that turns mentions off for a webhook.
MENTION = re.compile(r"@(?=\w)")


def _inert_markdown(text: str) -> str:
    return MENTION.sub("@\u2060", escape_markdown(text))


def mattermost_payload(message: Message, delivery: Delivery) -> dict:
    """The Slack message, as a Slack-compatible webhook shows it: Mattermost reads `text` and
    no Block Kit, and reads it as Markdown with mentions, so Slack's texts (already escaped
    for mrkdwn, whose entities Markdown decodes back) are also escaped for Markdown."""
    slack = slack_payload(message, delivery)
    section, footer = slack["blocks"][1]["text"]["text"], slack["blocks"][2]["elements"][0]["text"]
    return {"text": f"**{_inert_markdown(slack['text'])}**\n\n{_inert_markdown(section)}\n\n{footer}"}


def send_mattermost(message: Message, delivery: Delivery) -> Outcome:
    return _post(delivery.recipient, mattermost_payload(message, delivery), explain=mattermost_reason)


# --- Gotify ----------------------------------------------------------------------------

# Gotify's clients sound and pop up from priority 8; 4-7 notify quietly, 1-3 only list.
GOTIFY_PRIORITY = {Severity.CRITICAL: 10, Severity.HIGH: 8, Severity.MEDIUM: 5, Severity.LOW: 2}
# Gotify's error body: {"error": "Unauthorized", "errorCode": 401, "errorDescription": "..."}.
gotify_reason = json_field_reason("errorDescription", "error")


def send_gotify(message: Message, delivery: Delivery) -> Outcome:
    if delivery.channel is None:
        return Outcome.failed("the Gotify channel was deleted, so there is no application token")
    notice = notice_for(message, delivery)
    payload = {
        "title": notice.title,
        "message": notice.body,
        "priority": GOTIFY_PRIORITY[Severity(notice.severity)],
        "extras": {
            # Shown as plain text: the clients would otherwise read the message as Markdown.
            "client::display": {"contentType": "text/plain"},
            "client::notification": {"click": {"url": notice.link}},
        },
    }
    # The token goes in Gotify's header rather than ?token=, which would put it in access logs.
    headers = {"X-Gotify-Key": delivery.channel.token}
    return _post(delivery.recipient.rstrip("/") + "/message", payload, headers, gotify_reason)


SENDERS: dict[str, Callable[[Message, Delivery], Outcome]] = {
    Channel.Kind.NTFY: send_ntfy,
    Channel.Kind.DISCORD: send_discord,
    Channel.Kind.TEAMS: send_teams,
    Channel.Kind.TELEGRAM: send_telegram,
    Channel.Kind.MATTERMOST: send_mattermost,
    Channel.Kind.GOTIFY: send_gotify,
    Channel.Kind.SMS: send_sms,
    Channel.Kind.VOICE: send_voice,
    Channel.Kind.SMS_GATEWAY: send_sms_gateway,
    Channel.Kind.SLACK_BOT: send_slack_bot,
    **INCIDENT_TOOL_SENDERS,
}
