"""Slack's buttons on alert messages: the interactivity endpoint Slack posts a press to.

Slack signs each request: X-Slack-Signature is "v0=" + hex HMAC-SHA256 of
"v0:{X-Slack-Request-Timestamp}:{raw body}" with the app's signing secret. A request older
than five minutes is refused, so a captured one cannot be replayed later; within those five
minutes a replay finds the alert's token moved on and changes nothing.

The button's value is the signed action token of the message (alerts.action_links), so a
button acts exactly as the e-mail's link does, with the Slack user recorded as the actor. The
message is then updated through the payload's response_url, posted by a worker (Slack wants
the answer within three seconds) to an allowed host only (SLACK_RESPONSE_URL_HOSTS).
"""

import hashlib
import hmac
import json
import logging
import time
from urllib.parse import urlsplit

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from alerts.action_links import ActionLinkError, alert_action_apply, read_claims
from alerts.action_menu import PAST_TENSE
from notifications.senders import post_json

log = logging.getLogger(__name__)
MAX_AGE_SECONDS = 5 * 60


def signature_valid(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    if not signature.isascii():  # compare_digest refuses non-ASCII text rather than say False
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def _refused(status: int, error: str) -> JsonResponse:
    return JsonResponse({"error": error}, status=status)


def _ephemeral(text: str) -> dict:
    return {"response_type": "ephemeral", "replace_original": False, "text": text}


def response_url_allowed(url: object) -> bool:
    if not isinstance(url, str) or len(url) > 1000:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("https", "http") and (parts.hostname or "") in settings.SLACK_RESPONSE_URL_HOSTS


@shared_task(ignore_result=True)
def slack_response_send(url: str, payload: dict) -> str:
    """One bounded attempt (post_json: the outbound check, the send deadline, a capped answer);
    a message left un-updated is not worth retrying, the alert itself has changed."""
    if not response_url_allowed(url):
        return "refused: response_url host not allowed"
    outcome = post_json(url, json.dumps(payload).encode(), {})
    return f"{outcome.result} {outcome.status_code or ''} {outcome.error}".strip()


def _respond_later(url: object, payload: dict) -> None:
    if response_url_allowed(url):
        transaction.on_commit(lambda: slack_response_send.delay(url, payload), robust=True)
    elif url:
        log.warning("slack interactivity: response_url host not allowed; the message is not updated")


def _parse(request) -> tuple[dict, dict, dict] | str:
    """(payload, action, user), or why the payload is malformed."""
    try:
        payload = json.loads(request.POST.get("payload", ""))
    except ValueError:
        return "payload is not JSON"
    if not isinstance(payload, dict) or payload.get("type") != "block_actions":
        return "payload must be a block_actions object"
    actions, user = payload.get("actions"), payload.get("user")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        return "payload.actions must list the pressed button"
    if not isinstance(actions[0].get("value"), str) or not isinstance(user, dict):
        return "payload.actions[0].value and payload.user are required"
    return payload, actions[0], user


def _slack_name(user: dict) -> str:
    name = next((user.get(k) for k in ("username", "name") if isinstance(user.get(k), str) and user[k]), "")
    ident = user.get("id") if isinstance(user.get("id"), str) else ""
    return f"Slack user @{name} ({ident})"[:300] if name else f"Slack user {ident or 'unknown'}"[:300]


def _updated_message(payload: dict, summary: str) -> dict:
    """The original message without its buttons, with who did what below it."""
    message = payload.get("message") if isinstance(payload.get("message"), dict) else {}
    blocks = [b for b in message.get("blocks") or [] if isinstance(b, dict) and b.get("type") != "actions"][
        :45
    ]
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": summary}]})
    text = message.get("text") if isinstance(message.get("text"), str) else summary
    return {"replace_original": True, "text": text, "blocks": blocks}


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@csrf_exempt  # Slack has no CSRF token; the request signature authenticates it instead
@require_POST
def slack_interactivity(request):
    secret = settings.SLACK_SIGNING_SECRET
    if not secret:
        return _refused(403, "Slack interactivity is not configured (SLACK_SIGNING_SECRET).")
    timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
    signature = request.headers.get("X-Slack-Signature", "")
    # At most 12 digits: int() of a string of thousands of digits raises rather than answer.
    if (
        not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12)
        or abs(time.time() - int(timestamp)) > MAX_AGE_SECONDS
    ):
        return _refused(401, "X-Slack-Request-Timestamp is missing or more than five minutes off.")
    if not signature_valid(secret, timestamp, request.body, signature):
        return _refused(401, "X-Slack-Signature does not match.")
    parsed = _parse(request)
    if isinstance(parsed, str):
        return _refused(400, parsed)
    payload, action, user = parsed
    actor = _slack_name(user)
    try:
        claims = read_claims(action["value"])
        alert = alert_action_apply(claims=claims, actor_name=actor)
    except ActionLinkError as error:
        answer = _ephemeral(f"Nothing was changed: {error.message}")
        _respond_later(payload.get("response_url"), answer)
        return JsonResponse(answer)
    mention = (
        f"<@{user['id']}>" if isinstance(user.get("id"), str) and user["id"].isalnum() else _escape(actor)
    )
    summary = f"*{_escape(alert.title)}* {PAST_TENSE[claims.action]} by {mention}."
    _respond_later(payload.get("response_url"), _updated_message(payload, summary))
    return HttpResponse(status=200)
