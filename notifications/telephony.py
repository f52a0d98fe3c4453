"""SMS and voice calls through Twilio's REST API (the `twilio` package).

The package builds the requests (Messages.json, Calls.json, form-encoded, basic auth with the
account SID and auth token) and the TwiML; the transport underneath is ours (BoundedTwilioHttp):
each request goes to TWILIO_API_URL, passes the outbound-URL check, runs under the send deadline
with the per-read timeout, follows no redirect and reads at most MAX_ANSWER_BYTES of the answer.
So a Twilio that hangs or trickles costs one bounded attempt, like any other provider, and the
answer is classified by the one rule in senders.classify_response (429 with Retry-After and 5xx
retry, any other 4xx fails with Twilio's own message).
"""

import json
import logging
from collections.abc import Callable
from dataclasses import replace

import requests
from django.conf import settings
from django.urls import reverse
from twilio.base.exceptions import TwilioException
from twilio.http import HttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client
from twilio.twiml.voice_response import Gather, VoiceResponse

from core import outbound
from core.deadline import current, deadline
from core.text import clean_line
from notifications.models import Channel, Delivery, Message
from notifications.senders import (
    MAX_ANSWER_BYTES,
    Outcome,
    ProviderAnswer,
    classify_response,
    read_answer,
    template_context,
)

# The address the twilio package builds its URLs on; TWILIO_API_URL takes its place.
TWILIO_BASE_URL = "https://api.twilio.com"
logger = logging.getLogger(__name__)


class OutboundRefused(TwilioException):
    """TWILIO_API_URL points somewhere the outbound-URL rule does not allow."""


class BoundedTwilioHttp(HttpClient):
    """The twilio package's transport, made to behave like senders.post_json (see the module's
    docstring). It keeps the last raw answer so the outbox classifies it with its own rule."""

    def __init__(self) -> None:
        super().__init__(logger, is_async=False, timeout=settings.NOTIFICATIONS_HTTP_TIMEOUT)
        self.response: requests.Response | None = None
        self.answer = b""
        self.cut_off = False

    def request(
        self,
        method: str,
        uri: str,
        params: dict | None = None,
        data: dict | None = None,
        headers: dict | None = None,
        auth: tuple | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> TwilioResponse:
        url = uri
        if uri.startswith(TWILIO_BASE_URL):
            url = settings.TWILIO_API_URL + uri[len(TWILIO_BASE_URL) :]
        refused = outbound.check_destination(url, outbound.WEBHOOK)
        if refused:
            raise OutboundRefused(refused)
        with requests.Session() as session:
            response = session.request(
                method,
                url,
                params=params,
                data=data,
                headers={**(headers or {}), "Accept-Encoding": "identity"},
                auth=auth,
                timeout=timeout or self.timeout,
                allow_redirects=False,  # a redirect is a misconfigured TWILIO_API_URL: fail visibly
                stream=True,
            )
            # The headers were cut off by the deadline (http.client takes the end of the stream
            # for the end of the headers): a status line alone is not a complete answer.
            limit = current()
            self.cut_off = limit is not None and limit.expired
            with response:
                self.response, self.answer = response, read_answer(response, MAX_ANSWER_BYTES)
        return TwilioResponse(response.status_code, self.answer.decode(errors="replace"), response.headers)


def twilio_answer(answer: bytes) -> ProviderAnswer:
    """Twilio's error body: {"code": 21211, "message": "The 'To' number ... is not a valid phone
    number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}."""
    try:
        body = json.loads(answer)
    except ValueError:
        return ProviderAnswer()
    if not isinstance(body, dict) or not isinstance(body.get("message"), str):
        return ProviderAnswer()
    code = body.get("code")
    suffix = f" (Twilio error {code})" if isinstance(code, int) and not isinstance(code, bool) else ""
    return ProviderAnswer(body["message"].strip() + suffix)


def twilio_send(channel: Channel | None, create: Callable[[Client, Channel], object]) -> Outcome:
    """One request through the twilio package, bounded and classified."""
    if channel is None:
        return Outcome.failed("the Twilio channel was deleted, so there are no credentials")
    if not (channel.account_sid and channel.token and channel.from_number):
        # A row saved without them (the form requires them; an import or the shell need not).
        return Outcome.failed("the channel's account SID, auth token or from number is missing")
    transport = BoundedTwilioHttp()
    timeout = min(settings.NOTIFICATIONS_HTTP_TIMEOUT, settings.NOTIFICATIONS_SEND_DEADLINE)
    transport.timeout = timeout
    with deadline(settings.NOTIFICATIONS_SEND_DEADLINE) as limit:
        try:
            # environment={}: TWILIO_EDGE / TWILIO_REGION in the worker's environment must not
            # send the request past TWILIO_API_URL.
            client = Client(channel.account_sid, channel.token, http_client=transport, environment={})
            create(client, channel)
        except OutboundRefused as exc:
            return Outcome.failed(str(exc))
        except requests.RequestException as exc:
            if limit.expired:
                return Outcome.retry(f"no complete answer within the send deadline of {limit.seconds:g} s")
            if isinstance(exc, requests.Timeout):
                return Outcome.retry(f"timed out after {timeout:g} s")
            if isinstance(exc, requests.ConnectionError):
                return _scrubbed(Outcome.retry(f"connection error: {exc}"), channel)
            return _scrubbed(Outcome.failed(f"{type(exc).__name__}: {exc}"), channel)
        except (TwilioException, ValueError, KeyError, TypeError):
            # An error answer (TwilioRestException) or a success whose body was cut at the cap or
            # is not what the package expects: the status line decides, below.
            pass
    if transport.response is None:
        # Refused before a request: no credentials (a row saved before they were required).
        return Outcome.failed(
            "the twilio package sent no request: the channel's account SID or auth token is missing"
        )
    if transport.cut_off or (limit.expired and not 200 <= transport.response.status_code < 300):
        return Outcome.retry(f"no complete answer within the send deadline of {limit.seconds:g} s")
    return _scrubbed(classify_response(transport.response, transport.answer, twilio_answer), channel)


def _scrubbed(outcome: Outcome, channel: Channel) -> Outcome:
    """requests quotes the URL in its errors, and Twilio's paths name the account: neither the
    account SID nor the auth token is kept in an attempt's error."""
    if not outcome.error:
        return outcome
    error = outbound.scrub(outcome.error, settings.TWILIO_API_URL)
    for secret in (channel.account_sid, channel.token):
        if secret:
            error = error.replace(secret, "(hidden)")
    return replace(outcome, error=error)


# --- SMS -------------------------------------------------------------------------------

# GSM 03.38: the basic character set (one septet each) and its extension table (two each).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")
GSM7_SEGMENT = 160
UCS2_SEGMENT = 70


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text)


def sms_length(text: str) -> int:
    """What `text` costs of one segment: septets for GSM-7, UTF-16 code units for UCS-2."""
    if is_gsm7(text):
        return sum(2 if c in GSM7_EXTENDED else 1 for c in text)
    return len(text.encode("utf-16-le")) // 2


def _fits(text: str) -> bool:
    return sms_length(text) <= (GSM7_SEGMENT if is_gsm7(text) else UCS2_SEGMENT)


def _cut(title: str, head: str, tail: str) -> str | None:
    """head + the longest start of title (with an ellipsis) + tail that fits one segment."""
    ellipsis = "..." if is_gsm7(head + title + tail) else "…"
    for end in range(len(title) - 1, 0, -1):
        text = f"{head}{title[:end].rstrip()}{ellipsis}{tail}"
        if _fits(text):
            return text
    return None


# Below this many characters of title, the link gives way to the title.
MIN_TITLE_WITH_LINK = 20


def sms_text(title: str, severity: str, link: str) -> str:
    """One segment where it can be: "[CRITICAL] <title> <link>"; a long title is cut (with an
    ellipsis) before the link is dropped, and the link is dropped before the title goes under
    MIN_TITLE_WITH_LINK characters. SMS is plain text: nothing to escape, only control
    characters to take out (a newline in a title would not harm, but reads badly)."""
    head, title, tail = f"[{severity.upper()}] ", clean_line(title), f" {link}" if link else ""
    text = f"{head}{title}{tail}"
    if _fits(text):
        return text
    with_link = _cut(title, head, tail) if tail else None
    if with_link is not None and len(with_link) - len(head) - len(tail) - 3 >= MIN_TITLE_WITH_LINK:
        return with_link
    if _fits(f"{head}{title}"):
        return f"{head}{title}"
    return _cut(title, head, "") or head.strip()


def link_of(context: dict) -> str:
    link = context.get("url")
    return link if isinstance(link, str) and link.startswith(("https://", "http://")) else settings.PUBLIC_URL


def sms_body(message: Message, delivery: Delivery) -> str:
    return sms_text(message.subject, message.severity, link_of(template_context(message, delivery)))


def send_sms(message: Message, delivery: Delivery) -> Outcome:
    body = sms_body(message, delivery)

    def create(client: Client, channel: Channel) -> object:
        return client.messages.create(to=delivery.recipient, from_=channel.from_number, body=body)

    return twilio_send(delivery.channel, create)


# --- voice -----------------------------------------------------------------------------

# Said, not shown: long enough for any title a person would want read out to them.
SPOKEN_TITLE_CHARACTERS = 200
# The message kinds whose single alert a key press may acknowledge.
ACKNOWLEDGEABLE_KINDS = ("alert.firing", "alert.escalated")


def acknowledge_url(message: Message, delivery: Delivery) -> str | None:
    """The gather callback for a message about one firing alert: it names the alert, the
    escalation token the alert had when the message was written (so a call answered after the
    alert moved on does nothing) and the channel whose auth token signs Twilio's callback."""
    alerts = message.context.get("alerts")
    if message.kind not in ACKNOWLEDGEABLE_KINDS or not isinstance(alerts, list) or len(alerts) != 1:
        return None
    alert = alerts[0]
    ids = (alert.get("id"), alert.get("escalation_token")) if isinstance(alert, dict) else (None, None)
    if (
        not all(isinstance(value, int) and not isinstance(value, bool) for value in ids)
        or not delivery.channel_id
    ):
        return None
    path = reverse(
        "alert-voice-acknowledge",
        kwargs={"alert_id": ids[0], "token": ids[1], "channel_id": delivery.channel_id},
    )
    return settings.PUBLIC_URL + path


def spoken(text: str) -> str:
    """A text as a voice reads it: control characters out, Markdown's emphasis marks (which a
    voice would spell out) read as spaces. The XML escaping is the TwiML builder's."""
    return " ".join(clean_line(text).replace("*", " ").replace("_", " ").replace("`", " ").split())


def voice_twiml(message: Message, delivery: Delivery) -> str:
    title = spoken(message.subject)[:SPOKEN_TITLE_CHARACTERS]
    said = f"This is {settings.SITE_NAME}. A {message.severity} severity alert: {title}."
    response = VoiceResponse()
    action = acknowledge_url(message, delivery)
    if action is None:
        response.say(said)
        return str(response)
    gather = Gather(num_digits=1, action=action, method="POST", timeout=10)
    gather.say(f"{said} Press 1 to acknowledge.")
    response.append(gather)
    response.say("No key was pressed. The alert stays open. Goodbye.")
    return str(response)


def send_voice(message: Message, delivery: Delivery) -> Outcome:
    twiml = voice_twiml(message, delivery)

    def create(client: Client, channel: Channel) -> object:
        return client.calls.create(to=delivery.recipient, from_=channel.from_number, twiml=twiml)

    return twilio_send(delivery.channel, create)
