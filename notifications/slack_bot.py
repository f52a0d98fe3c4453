"""Slack through a bot's Web API: chat.postMessage to a conversation, or to a member's id,
which Slack delivers as a direct message from the app. This is how a person is paged on Slack
(their contact method holds their member id); a channel of this kind can also post to one
conversation of its own.

The Web API answers most errors with HTTP 200 and {"ok": false, "error": "..."}, so the body of
a 2xx is read too and classified by its error code: Slack's own transient failures retry, every
other code (a revoked token, an unknown member) fails at once with Slack's reason. A 429 carries
Retry-After, which the shared classification honours.
"""

import json
import re

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from core.text import clean_line
from notifications.models import Delivery, Message
from notifications.senders import Outcome, ProviderAnswer, post_json, slack_payload

# A bot user OAuth token (the one chat.postMessage takes): xoxb- and dash-separated parts.
SLACK_BOT_TOKEN = re.compile(r"xoxb-[0-9A-Za-z-]{20,250}")
# A conversation (C…, G…), a direct message (D…) or a member (U…, W…) id.
SLACK_CONVERSATION = re.compile(r"[CDGUW][A-Z0-9]{6,20}")
# Error codes that mean "Slack had a problem, try again" (its documented transient errors).
TRANSIENT_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}
)


def slack_answer(answer: bytes) -> ProviderAnswer:
    """The Web API's error body: {"ok": false, "error": "channel_not_found"}."""
    try:
        body = json.loads(answer)
    except ValueError:
        return ProviderAnswer()
    error = body.get("error") if isinstance(body, dict) else None
    return ProviderAnswer(clean_line(error)[:200]) if isinstance(error, str) and error else ProviderAnswer()


def classify_web_api_body(answer: bytes) -> Outcome | None:
    """The outcome a 2xx answer's body overrides: None when it says ok, else its error."""
    try:
        body = json.loads(answer)
    except ValueError:
        return Outcome.retry("Slack answered with a body that is not JSON")
    if isinstance(body, dict) and body.get("ok") is True:
        return None
    error = slack_answer(answer).reason or "no error code"
    if error in TRANSIENT_ERRORS:
        return Outcome.retry(f"Slack: {error}", 200)
    return Outcome.failed(f"Slack: {error}", 200)


def send_slack_bot(message: Message, delivery: Delivery) -> Outcome:
    if delivery.channel is None:
        return Outcome.failed("the Slack bot channel was deleted, so there is no bot token")
    payload = {"channel": delivery.recipient, **slack_payload(message, delivery)}
    body = json.dumps(payload, cls=DjangoJSONEncoder).encode()
    headers = {
        "Authorization": f"Bearer {delivery.channel.token}",
        "Content-Type": "application/json; charset=utf-8",
    }
    url = f"{settings.SLACK_API_URL}/chat.postMessage"
    return post_json(url, body, headers, slack_answer, check_body=classify_web_api_body)
