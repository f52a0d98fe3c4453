"""Senders for the incident tools: PagerDuty (Events API v2) and Opsgenie (Alerts API).

Unlike a chat channel, an incident tool keeps state: an alert there is opened once, then
acknowledged and closed under the same key. So each message says what it does to the incident
(EVENT_ACTIONS, by the message's kind) and which incident it is (incident_key): the alert's
fingerprint for alert messages, the status-page incident's or maintenance's address for those.
alerts/notify.py sends an incident tool one message per alert (never a storm group), so every
alert message carries exactly one alert.

A test notification is a trigger followed at once by its resolve, both under one send deadline:
it proves the key, the address and both halves of the lifecycle, and leaves no incident open.

Everything goes through the same HTTP path as the other providers (senders._request under one
deadline, after the outbound-URL check), so the answer cap, the classification (429 and 5xx
retry, other 4xx fail at once) and the scrubbing of errors are the same.
"""

import hashlib
import json
from dataclasses import replace
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from core import outbound
from core.deadline import deadline
from notifications.models import Channel, Delivery, DeliveryAttempt, Message, Severity
from notifications.senders import Explain, Outcome, ProviderAnswer, _request, json_field_reason, render_text
from notifications.senders import template_context as _template_context

TRIGGER, ACKNOWLEDGE, RESOLVE = "trigger", "acknowledge", "resolve"
EVENT_ACTIONS = {
    "alert.firing": (TRIGGER,),
    # The same key as the firing message: the tool adds it to the open alert, opens nothing new.
    "alert.escalated": (TRIGGER,),
    "alert.acknowledged": (ACKNOWLEDGE,),
    "alert.resolved": (RESOLVE,),
    "incident.created": (TRIGGER,),
    "incident.updated": (TRIGGER,),
    "incident.resolved": (RESOLVE,),
    "maintenance.started": (TRIGGER,),
    "maintenance.completed": (RESOLVE,),
    "test": (TRIGGER, RESOLVE),
}
# PagerDuty's dedup_key takes up to 255 characters; a longer key is sent as its digest.
MAX_KEY_LENGTH = 255


def incident_key(message: Message) -> str | None:
    """Which incident in the tool this message is about, the same for all its messages."""
    context = message.context
    if message.kind.startswith("alert."):
        alerts = context.get("alerts")
        if not (isinstance(alerts, list) and len(alerts) == 1 and isinstance(alerts[0], dict)):
            return None
        key = alerts[0].get("fingerprint")
    elif message.kind.startswith(("incident.", "maintenance.")):
        key = context.get("url")
    else:
        key = message.dedup_key
    if not isinstance(key, str) or not key:
        return None
    if len(key) > MAX_KEY_LENGTH:
        return "vigil-" + hashlib.sha256(key.encode()).hexdigest()
    return key


def _link(message: Message, delivery: Delivery) -> str:
    """The page of what the message is about: its url, else its one alert's (an escalation)."""
    context = _template_context(message, delivery)
    alerts = context.get("alerts")
    alert_url = (
        alerts[0].get("url") if isinstance(alerts, list) and alerts and isinstance(alerts[0], dict) else None
    )
    for link in (context.get("url"), alert_url):
        if isinstance(link, str) and link.startswith(("https://", "http://")):
            return link
    return settings.PUBLIC_URL


def _source() -> str:
    return urlsplit(settings.PUBLIC_URL).hostname or settings.SITE_NAME


def _details(message: Message) -> dict:
    """What the incident shows beside its title: the alert's own figures, or nothing more."""
    alerts = message.context.get("alerts")
    alert = alerts[0] if isinstance(alerts, list) and len(alerts) == 1 and isinstance(alerts[0], dict) else {}
    wanted = ("status", "metric", "value", "threshold", "occurrences", "fired_at", "runbook_url")
    details = {"severity": message.severity, "kind": message.kind}
    details.update({name: alert[name] for name in wanted if alert.get(name) not in (None, "")})
    return details


def _post_in_turn(calls: list[tuple[str, dict]], headers: dict, explain: Explain) -> Outcome:
    """Post each (url, payload) in order, under ONE send deadline in all (the outbox plans each
    delivery as one send), stopping at the first that is not accepted."""
    for url, _ in calls:
        refused = outbound.check_destination(url, outbound.WEBHOOK)
        if refused:
            return Outcome.failed(refused)
    outcome = Outcome.failed("nothing to send")
    with deadline(settings.NOTIFICATIONS_SEND_DEADLINE) as limit:
        for url, payload in calls:
            body = json.dumps(payload, cls=DjangoJSONEncoder).encode()
            outcome = _request("POST", url, body, headers, limit, explain)
            if outcome.result != DeliveryAttempt.Outcome.SENT:
                break
    if outcome.error:
        error = outcome.error
        for url, _ in calls:
            error = outbound.scrub(error, url)
        outcome = replace(outcome, error=error)
    return outcome


def _prepare(message: Message, delivery: Delivery, tool: str) -> tuple[str, str, tuple] | Outcome:
    if delivery.channel is None:
        return Outcome.failed(f"the {tool} channel was deleted, so there is no key to send with")
    actions = EVENT_ACTIONS.get(message.kind)
    if actions is None:
        return Outcome.failed(f"a {message.kind!r} message is nothing {tool} is told of")
    key = incident_key(message)
    if key is None:
        return Outcome.failed(f"a {message.kind!r} message must be about exactly one alert for {tool}")
    return delivery.recipient.partition("#")[0], key, actions


# --- PagerDuty -------------------------------------------------------------------------

PAGERDUTY_SEVERITY = {
    Severity.CRITICAL: "critical",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "info",
}


def pagerduty_answer(answer: bytes) -> ProviderAnswer:
    """An invalid event answers {"status": "invalid event", "message": "Event object is
    invalid", "errors": ["Length of 'routing_key' is incorrect (should be 32 characters)"]}:
    the errors say what to fix, the message alone does not."""
    try:
        body = json.loads(answer)
    except ValueError:
        return ProviderAnswer()
    if not isinstance(body, dict):
        return ProviderAnswer()
    parts = [body.get("message")] + (body.get("errors") if isinstance(body.get("errors"), list) else [])
    return ProviderAnswer(": ".join(str(part) for part in parts if isinstance(part, str) and part.strip()))


def pagerduty_event(message: Message, delivery: Delivery, action: str, key: str) -> dict:
    event = {"routing_key": delivery.channel.token, "event_action": action, "dedup_key": key}
    if action != TRIGGER:
        return event  # acknowledge and resolve name the incident and nothing else
    text = render_text(message, _template_context(message, delivery)).strip()
    return {
        **event,
        "payload": {
            "summary": message.subject[:1024],
            "source": _source(),
            "severity": PAGERDUTY_SEVERITY[Severity(message.severity)],
            "custom_details": {**_details(message), "text": text},
        },
        "links": [{"href": _link(message, delivery), "text": f"Open in {settings.SITE_NAME}"}],
        "client": settings.SITE_NAME,
        "client_url": settings.PUBLIC_URL,
    }


def send_pagerduty(message: Message, delivery: Delivery) -> Outcome:
    prepared = _prepare(message, delivery, "PagerDuty")
    if isinstance(prepared, Outcome):
        return prepared
    server, key, actions = prepared
    url = f"{server}/v2/enqueue"
    calls = [(url, pagerduty_event(message, delivery, action, key)) for action in actions]
    return _post_in_turn(calls, {}, pagerduty_answer)


# --- Opsgenie --------------------------------------------------------------------------

# P1 is Opsgenie's most urgent; P5 (informational) is left to the test notification.
OPSGENIE_PRIORITY = {Severity.CRITICAL: "P1", Severity.HIGH: "P2", Severity.MEDIUM: "P3", Severity.LOW: "P4"}
# Opsgenie's error body: {"message": "Key format is not valid!", "took": 0.001, "requestId": "..."}.
opsgenie_reason = json_field_reason("message")
OPSGENIE_MESSAGE_CHARACTERS = 130
OPSGENIE_DESCRIPTION_CHARACTERS = 15000


def opsgenie_call(message: Message, delivery: Delivery, action: str, alias: str, server: str) -> tuple:
    if action == TRIGGER:
        text = render_text(message, _template_context(message, delivery)).strip()
        details = {name: str(value) for name, value in _details(message).items()}
        payload = {
            "message": message.subject[:OPSGENIE_MESSAGE_CHARACTERS],
            "alias": alias,
            "description": text[:OPSGENIE_DESCRIPTION_CHARACTERS],
            "priority": "P5" if message.kind == "test" else OPSGENIE_PRIORITY[Severity(message.severity)],
            "source": _source(),
            "details": {**details, "url": _link(message, delivery)},
            "tags": [message.severity],
        }
        return f"{server}/v2/alerts", payload
    verb = "acknowledge" if action == ACKNOWLEDGE else "close"
    url = f"{server}/v2/alerts/{quote(alias, safe='')}/{verb}?identifierType=alias"
    note = message.subject
    who = message.context.get("acknowledged_by")
    if action == ACKNOWLEDGE and isinstance(who, str) and who:
        note = f"Acknowledged in {settings.SITE_NAME} by {who}: {message.context.get('note') or '-'}"
    return url, {"source": _source(), "note": note[:25000]}


def send_opsgenie(message: Message, delivery: Delivery) -> Outcome:
    prepared = _prepare(message, delivery, "Opsgenie")
    if isinstance(prepared, Outcome):
        return prepared
    server, alias, actions = prepared
    calls = [opsgenie_call(message, delivery, action, alias, server) for action in actions]
    headers = {"Authorization": f"GenieKey {delivery.channel.token}"}
    return _post_in_turn(calls, headers, opsgenie_reason)


SENDERS = {Channel.Kind.PAGERDUTY: send_pagerduty, Channel.Kind.OPSGENIE: send_opsgenie}
