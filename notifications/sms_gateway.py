"""A generic HTTP SMS gateway: one request per number, built from the channel's body template.

The template is a string.Template with $to, $text, $severity and $link. Each value is escaped
for the request's content type before it is put in, so whatever an alert's title holds, the
body stays what the template made it: inside a JSON string a value is JSON-escaped (quotes,
backslashes and control characters cannot close the string or add a key); in a form (and the
query string of a GET) it is percent-encoded (an "&" or "=" cannot add a field). The request
goes through senders.send_http: the outbound-URL check, the send deadline, the capped answer and
the one classification (429 waits for Retry-After, 5xx and timeouts retry, other 4xx fail).
"""

import json
from string import Template
from urllib.parse import quote_plus

from core.http_headers import parse_headers
from notifications.models import Channel, Delivery, Message
from notifications.senders import Outcome, json_field_reason, send_http, template_context
from notifications.telephony import link_of, sms_body

PLACEHOLDERS = ("to", "text", "severity", "link")
DEFAULT_TEMPLATES = {
    Channel.ContentType.JSON: '{"to": "$to", "text": "$text"}',
    Channel.ContentType.FORM: "to=$to&text=$text",
}
CONTENT_TYPES = {
    Channel.ContentType.JSON: "application/json",
    Channel.ContentType.FORM: "application/x-www-form-urlencoded",
}
# The commonest error bodies of SMS gateways name their reason in one of these.
gateway_reason = json_field_reason("message", "error", "detail", "description")


def _template(channel: Channel) -> str:
    return channel.body_template.strip() or DEFAULT_TEMPLATES[Channel.ContentType(channel.content_type)]


SAMPLE = {
    "to": "+14155550100",
    "text": 'A "quoted" & <odd> text',
    "severity": "high",
    "link": "https://a.example/",
}


def template_problem(template: str, content_type: str = Channel.ContentType.FORM) -> str | None:
    if not template.strip():
        return None
    parsed = Template(template)
    if not parsed.is_valid():
        return "The template has a '$' that is not a placeholder; write $$ for a dollar sign."
    unknown = sorted(set(parsed.get_identifiers()) - set(PLACEHOLDERS))
    if unknown:
        known = ", ".join("$" + p for p in PLACEHOLDERS)
        return f"Unknown placeholder ${unknown[0]}; the template may use {known}."
    if content_type == Channel.ContentType.JSON:
        rendered = parsed.safe_substitute({k: _escape(v, content_type) for k, v in SAMPLE.items()})
        try:
            json.loads(rendered)
        except ValueError as exc:
            return (
                f"With values put in, the template is not JSON ({exc.msg}); put each placeholder in quotes."
            )
    return None


def _escape(value: str, content_type: str) -> str:
    if content_type == Channel.ContentType.JSON:
        return json.dumps(value)[1:-1]  # the string's inside: the template gives the quotes
    return quote_plus(value)


def render_body(channel: Channel, values: dict[str, str]) -> str:
    content_type = Channel.ContentType(channel.content_type)
    escaped = {name: _escape(value, content_type) for name, value in values.items()}
    return Template(_template(channel)).safe_substitute(escaped)


def gateway_values(message: Message, delivery: Delivery) -> dict[str, str]:
    return {
        "to": delivery.recipient,
        "text": sms_body(message, delivery),
        "severity": message.severity,
        "link": link_of(template_context(message, delivery)),
    }


def send_sms_gateway(message: Message, delivery: Delivery) -> Outcome:
    channel = delivery.channel
    if channel is None:
        return Outcome.failed("the SMS gateway channel was deleted, so its URL and template are gone")
    values = gateway_values(message, delivery)
    headers = {"Content-Type": CONTENT_TYPES[Channel.ContentType(channel.content_type)]}
    headers.update(parse_headers(channel.request_headers))
    if channel.http_method == Channel.Method.GET:
        separator = "&" if "?" in channel.url else "?"
        # GET carries the template as its query string, so it is always form-encoded.
        query = Template(_template(channel)).safe_substitute({k: quote_plus(v) for k, v in values.items()})
        headers.pop("Content-Type", None)
        return send_http("GET", f"{channel.url}{separator}{query}", None, headers, gateway_reason)
    body = render_body(channel, values).encode()
    return send_http(channel.http_method, channel.url, body, headers, gateway_reason)
