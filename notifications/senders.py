"""Talking to the outside world: SMTP, Slack incoming webhooks, signed generic webhooks.

Each sender returns an Outcome and never raises for a provider's answer: the outbox records
it and decides from its class (sent / retry / failed) what happens to the delivery next.

Classification (the issue's rule, in one place):
- timeouts, connection errors, HTTP 5xx and 429 (honouring Retry-After), SMTP 4xx replies,
  a dropped SMTP connection -> retry with backoff;
- any other HTTP status (3xx and 4xx), SMTP 5xx replies for the recipient or the message, an
  address that is not an address, a mail that cannot be written (a header Django refuses) ->
  failed at once: sending it again cannot succeed.
SMTP authentication and sender-refused errors retry: they are the server's configuration, not
the recipient's fault, and failing 100,000 subscribers for a typo in EMAIL_URL would be worse.

Every send, HTTP or SMTP, runs under one total deadline (NOTIFICATIONS_SEND_DEADLINE: connect,
request and the whole answer; core.deadline), because a peer that trickles its answer one
byte at a time never trips a per-read timeout. A send the deadline ends retries like a timeout.
HTTP answers are streamed and at most MAX_ANSWER_BYTES of them read: only an error answer's
first lines are kept, and a receiver must not be able to fill a worker's memory.
"""

import base64
import contextlib
import email.utils
import hashlib
import hmac
import json
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.mime.image import MIMEImage

import requests
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import BadHeaderError, EmailMultiAlternatives, get_connection
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import validate_email
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, select_template
from django.utils import translation

from core import outbound
from core.deadline import Deadline, deadline
from core.text import clean_line
from notifications.action_links import with_action_links
from notifications.models import Channel, Delivery, DeliveryAttempt, Message

USER_AGENT = "Vigil-Notifications/1"
GENERIC_TEMPLATE = "generic"
# Of an HTTP answer only an error's first 300 characters are kept (Outcome.error); reading more
# would only let a receiver fill the worker's memory.
MAX_ANSWER_BYTES = 16 * 1024


@dataclass(frozen=True)
class Outcome:
    result: str  # a DeliveryAttempt.Outcome value
    status_code: int | None = None
    error: str = ""
    retry_after: float | None = None

    @classmethod
    def sent(cls, status_code: int | None = None) -> "Outcome":
        return cls(DeliveryAttempt.Outcome.SENT, status_code)

    @classmethod
    def retry(cls, error: str, status_code: int | None = None, retry_after: float | None = None) -> "Outcome":
        return cls(DeliveryAttempt.Outcome.RETRY, status_code, error[:2000], retry_after)

    @classmethod
    def failed(cls, error: str, status_code: int | None = None) -> "Outcome":
        return cls(DeliveryAttempt.Outcome.FAILED, status_code, error[:2000])


# --- rendering -------------------------------------------------------------------------


def template_context(message: Message, delivery: Delivery) -> dict:
    """The message's context with the recipient's own merged over it (unsubscribe links...),
    and its actions as links signed for this recipient (notifications.action_links): bound to
    the address for an e-mail, to no one for a channel many people read."""
    recipient = delivery.recipient.strip().lower() if delivery.kind == Channel.Kind.EMAIL else ""
    return {
        **with_action_links(message.context, recipient),
        **delivery.context,
        "subject": message.subject,
        "severity": message.severity,
        "message_kind": message.kind,
        "site_name": settings.SITE_NAME,
        "public_url": settings.PUBLIC_URL,
    }


def _template_names(message: Message, suffix: str) -> list[str]:
    names = [f"notifications/{message.template}.{suffix}"] if message.template else []
    return [*names, f"notifications/{GENERIC_TEMPLATE}.{suffix}"]


def render_text(message: Message, context: dict) -> str:
    return select_template(_template_names(message, "txt")).render(context).strip() + "\n"


def render_html(message: Message, context: dict) -> str:
    return select_template(_template_names(message, "html")).render(context)


# --- e-mail ----------------------------------------------------------------------------


def build_email(message: Message, delivery: Delivery) -> EmailMultiAlternatives:
    language = delivery.context.get("language")
    if language and language in dict(settings.LANGUAGES):
        with translation.override(language):
            return _build_email(message, delivery, translated=True)
    return _build_email(message, delivery, translated=False)


def _subject(message: Message, context: dict, translated: bool) -> str:
    """The message's subject; in another language, from its subject template when it has one."""
    if translated and message.template:
        try:
            template = get_template(f"notifications/{message.template}.subject.txt")
        except TemplateDoesNotExist:
            return message.subject
        return " ".join(template.render(context).split())[:300] or message.subject
    return message.subject


def _build_email(message: Message, delivery: Delivery, *, translated: bool) -> EmailMultiAlternatives:
    context = template_context(message, delivery)
    subject = context["subject"] = _subject(message, context, translated)
    # Every header value is cleaned of control characters, whatever the row holds: one in a
    # subject would otherwise fail the mail (BadHeaderError) or, a vertical tab or a separator
    # (which Python's header folding breaks lines on), inject headers of its own.
    headers = {"X-Vigil-Delivery": clean_line(delivery.idempotency_key)}
    # RFC 8058: the one-click header must point at a URL that unsubscribes on POST; a plain
    # unsubscribe page alone gets List-Unsubscribe without the -Post header.
    one_click = clean_line(delivery.context.get("unsubscribe_one_click_url"))
    page = clean_line(delivery.context.get("unsubscribe_url"))
    if one_click:
        headers["List-Unsubscribe"] = f"<{one_click}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    elif page:
        headers["List-Unsubscribe"] = f"<{page}>"
    mail = EmailMultiAlternatives(
        subject=clean_line(subject),
        body=render_text(message, context),
        to=[delivery.recipient],
        headers=headers,
    )
    mail.attach_alternative(render_html(message, context), "text/html")
    images = message.context.get("inline_images") or []
    if images:
        # Pictures a mail client shows without fetching anything (a report's chart): the HTML
        # names each as cid:<name>, and multipart/related carries it beside the two bodies.
        mail.mixed_subtype = "related"
        for image in images:
            part = MIMEImage(base64.b64decode(image["data"]), _subtype=image.get("subtype", "png"))
            part.add_header("Content-ID", f"<{clean_line(image['cid'])}>")
            part.add_header("Content-Disposition", "inline", filename=f"{clean_line(image['cid'])}.png")
            mail.attach(part)
    return mail


def classify_smtp_error(exc: Exception) -> Outcome:
    if isinstance(exc, BadHeaderError | ValueError):
        # Raised while Django writes the mail (a header it refuses, an address it cannot
        # encode), before anything is sent: the same row would fail the same way every time.
        return Outcome.failed(f"the mail cannot be written: {type(exc).__name__}: {exc}")
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()), (None, b""))
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        error = f"recipient refused: {code} {text}"
        return Outcome.failed(error, code) if code and code >= 500 else Outcome.retry(error, code)
    if isinstance(exc, smtplib.SMTPAuthenticationError | smtplib.SMTPSenderRefused):
        return Outcome.retry(f"SMTP server configuration: {exc}", getattr(exc, "smtp_code", None))
    if isinstance(exc, smtplib.SMTPResponseException):
        error = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
        return (
            Outcome.failed(error, exc.smtp_code)
            if exc.smtp_code >= 500
            else Outcome.retry(error, exc.smtp_code)
        )
    # Disconnects, refused connections, timeouts (OSError), and anything unexpected: bounded retry.
    return Outcome.retry(f"{type(exc).__name__}: {exc}")


class EmailSender:
    """One SMTP connection for a whole batch, opened on first use (Django's get_connection).

    Each send, and closing the connection, is bounded by NOTIFICATIONS_SEND_DEADLINE. A server
    that misses it is left for the rest of the batch: a trickling server costs one attempt's
    deadline per batch, not one per row."""

    def __init__(self) -> None:
        self.connection = None
        self.unavailable: Outcome | None = None

    def send(self, message: Message, delivery: Delivery) -> Outcome:
        try:
            validate_email(delivery.recipient)
        except ValidationError:
            return Outcome.failed(f"invalid e-mail address {delivery.recipient!r}")
        if self.unavailable is not None:
            # The server could not be reached for this batch: do not wait out a connect timeout
            # once per row. The attempt is recorded and the row retries with backoff.
            return self.unavailable
        mail = build_email(message, delivery)
        with deadline(settings.NOTIFICATIONS_SEND_DEADLINE) as limit:
            outcome = self._send(mail, limit)
        if limit.expired:
            self.close()  # the deadline shut its socket down
            if outcome.result != DeliveryAttempt.Outcome.SENT:
                outcome = self.unavailable = Outcome.retry(f"SMTP server: {_missed(limit)}")
        return outcome

    def _send(self, mail: EmailMultiAlternatives, limit: Deadline) -> Outcome:
        if self.connection is None:
            try:
                timeout = min(settings.EMAIL_TIMEOUT, limit.seconds)
                self.connection = get_connection(fail_silently=False, timeout=timeout)
                self.connection.open()
            except SoftTimeLimitExceeded:
                raise
            except Exception as exc:
                self.connection = None
                outcome = classify_smtp_error(exc)
                self.unavailable = Outcome.retry(f"SMTP server unavailable: {outcome.error}")
                return self.unavailable
        else:
            self._watch(limit)
        try:
            accepted = self.connection.send_messages([mail])
        except (smtplib.SMTPRecipientsRefused, ValueError) as exc:
            # The connection is still good: smtplib sent RSET, or the mail was never started.
            return classify_smtp_error(exc)
        except SoftTimeLimitExceeded:
            raise  # the task is being stopped: not the server's answer
        except Exception as exc:
            self.close()  # never reuse a connection in an unknown state
            return classify_smtp_error(exc)
        return Outcome.sent() if accepted else Outcome.retry("the e-mail backend accepted nothing")

    def _watch(self, limit: Deadline) -> None:
        # The connection was opened during an earlier send: hand its socket to this deadline.
        # (Django's SMTP backend keeps smtplib's SMTP as .connection; other backends have none.)
        sock = getattr(getattr(self.connection, "connection", None), "sock", None)
        if sock is not None:
            limit.watch(sock)

    def close(self) -> None:
        if self.connection is not None:
            # Closing says QUIT and waits for the reply, which a trickling server can hold too;
            # closing a dead connection must not fail the batch.
            with deadline(settings.NOTIFICATIONS_SEND_DEADLINE) as limit, contextlib.suppress(Exception):
                self._watch(limit)
                self.connection.close()
            self.connection = None


def _missed(limit: Deadline) -> str:
    return f"no complete answer within the send deadline of {limit.seconds:g} s"


# --- HTTP: Slack and generic webhooks ---------------------------------------------------


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After is either seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # isdigit() alone also takes "²", which float() refuses
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


@dataclass(frozen=True)
class ProviderAnswer:
    """What a provider's documented error body says: its reason, and how long to wait when
    it says so in the body rather than in Retry-After."""

    reason: str = ""
    retry_after: float | None = None


# Reads a provider's error body; given the bytes as far as they were read.
Explain = Callable[[bytes], ProviderAnswer]


def json_field_reason(*names: str) -> Explain:
    """An Explain for providers whose error body is a JSON object with the reason in one of
    `names` (the first present wins); anything else keeps the raw snippet."""

    def explain(answer: bytes) -> ProviderAnswer:
        try:
            body = json.loads(answer)
        except ValueError:
            return ProviderAnswer()
        if not isinstance(body, dict):
            return ProviderAnswer()
        for name in names:
            if isinstance(body.get(name), str | int) and str(body[name]).strip():
                return ProviderAnswer(str(body[name]).strip())
        return ProviderAnswer()

    return explain


def classify_response(
    response: requests.Response, answer: bytes = b"", explain: Explain | None = None
) -> Outcome:
    """The outcome of an HTTP answer: its status, and for an error the provider's reason (from
    `explain`, reading its documented error body) or the start of `answer` (the body as far as
    it was read). 408 and 429 are the provider asking to be tried again later; any other 4xx
    (and a 3xx: a misconfigured URL) cannot succeed by resending."""
    code = response.status_code
    if 200 <= code < 300:
        return Outcome.sent(code)
    told = explain(answer) if explain and answer else ProviderAnswer()
    snippet = clean_line(told.reason) or _decode(answer, response.encoding) or response.reason or ""
    error = f"HTTP {code}: {snippet[:300]}".strip()
    if code in (408, 429) or code >= 500:
        wait = parse_retry_after(response.headers.get("Retry-After"))
        return Outcome.retry(error, code, told.retry_after if wait is None else wait)
    return Outcome.failed(error, code)


def _decode(answer: bytes, encoding: str | None) -> str:
    try:
        return answer.decode(encoding or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return answer.decode("utf-8", errors="replace")


def read_answer(response: requests.Response, limit: int = MAX_ANSWER_BYTES) -> bytes:
    """At most `limit` bytes of the body, read as a stream. When a broken connection or the
    deadline cuts it short, the chunks read until then are kept."""
    answer = bytearray()
    try:
        for chunk in response.iter_content(4096):
            answer += chunk
            if len(answer) >= limit:
                break
    except requests.RequestException:
        pass
    return bytes(answer[:limit])


# Reads a 2xx answer's body, for providers that answer some errors with a success status;
# returns the outcome the body says instead, or None when it confirms the success.
CheckBody = Callable[[bytes], "Outcome | None"]


def post_json(
    url: str,
    body: bytes,
    headers: dict,
    explain: Explain | None = None,
    check_body: CheckBody | None = None,
    seconds: float | None = None,
) -> Outcome:
    """The one HTTP sender of every channel that posts (Slack, webhooks, the chat and push
    providers). `explain` reads the provider's error body for its reason; `seconds` replaces
    NOTIFICATIONS_SEND_DEADLINE (a shorter one, for a send a visitor's request waits for)."""
    return send_http("POST", url, body, headers, explain, check_body, seconds)


def send_http(
    method: str,
    url: str,
    body: bytes | None,
    headers: dict,
    explain: Explain | None = None,
    check_body: CheckBody | None = None,
    seconds: float | None = None,
) -> Outcome:
    """post_json for any method and content type (headers may set Content-Type; JSON otherwise)."""
    # Checked again here, not only when the channel was saved: a name may resolve elsewhere
    # now, and rows saved before the rule existed are not trusted either.
    refused = outbound.check_destination(url, outbound.WEBHOOK)
    if refused:
        return Outcome.failed(refused)
    with deadline(seconds or settings.NOTIFICATIONS_SEND_DEADLINE) as limit:
        outcome = _request(method, url, body, headers, limit, explain, check_body)
    # requests quotes the URL in its errors; Slack's path and webhook query strings are secrets.
    return replace(outcome, error=outbound.scrub(outcome.error, url)) if outcome.error else outcome


def _request(
    method: str,
    url: str,
    body: bytes | None,
    headers: dict,
    limit: Deadline,
    explain: Explain | None,
    check_body: CheckBody | None = None,
) -> Outcome:
    timeout = min(settings.NOTIFICATIONS_HTTP_TIMEOUT, limit.seconds)
    # A session of its own: a connection kept from an earlier send would not be under this
    # send's deadline (the deadline watches the sockets connected inside it).
    with requests.Session() as session:
        try:
            with session.request(
                method,
                url,
                data=body,
                headers={
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                    # The answer is read only as far as MAX_ANSWER_BYTES: a compressed one could
                    # unpack to far more than that from a few bytes read.
                    "Accept-Encoding": "identity",
                    **headers,
                },
                timeout=timeout,
                allow_redirects=False,  # a redirect is a misconfigured URL: fail visibly
                stream=True,
            ) as response:
                if limit.expired:
                    # The headers were cut off (http.client takes the end of the stream for the
                    # end of the headers): a status line alone is not a complete answer.
                    return Outcome.retry(_missed(limit))
                # A success needs nothing from the body; an error keeps its first lines.
                ok = 200 <= response.status_code < 300
                if ok and check_body is not None:
                    answer = read_answer(response)
                    if limit.expired:
                        return Outcome.retry(_missed(limit))
                    told = check_body(answer)
                    if told is not None:
                        return told
                return classify_response(response, b"" if ok else read_answer(response), explain)
        except requests.RequestException as exc:
            if limit.expired:
                return Outcome.retry(_missed(limit))
            if isinstance(exc, requests.Timeout):
                return Outcome.retry(f"timed out after {timeout:g} s")
            if isinstance(exc, requests.ConnectionError):
                return Outcome.retry(f"connection error: {exc}")
            return Outcome.failed(f"{type(exc).__name__}: {exc}")  # invalid URL, bad scheme


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Slack allows 25 elements in an actions block and 50 blocks in a message; a storm's message
# gets buttons for its first few alerts only (the others are in the console).
SLACK_ALERTS_WITH_BUTTONS = 5


def _slack_buttons(context: dict) -> list[dict]:
    """Block Kit buttons for the actions of the message's items (alerts); each button's value is
    the signed token that the interactivity endpoint reads."""
    items = [item for item in context.get("alerts") or [] if isinstance(item, dict) and item.get("actions")]
    blocks = []
    for item in items[:SLACK_ALERTS_WITH_BUTTONS]:
        elements = [
            {
                "type": "button",
                "action_id": f"vigil-{action['name']}-{item.get('id', '')}"[:255],
                "text": {"type": "plain_text", "text": action["label"][:75]},
                "value": action["token"],
                **({"style": "primary"} if action["name"] == "acknowledge" else {}),
            }
            for action in item["actions"]
            if len(action["token"]) <= 2000
        ]
        if elements:
            block_id = f"vigil-alert-{item.get('id', len(blocks))}"
            blocks.append({"type": "actions", "block_id": block_id[:255], "elements": elements})
    return blocks


def slack_payload(message: Message, delivery: Delivery) -> dict:
    context = template_context(message, delivery)
    # Slack shows the actions as buttons (below), so its text leaves the links out.
    with_buttons = delivery.kind in (Channel.Kind.SLACK, Channel.Kind.SLACK_BOT)
    text = render_text(message, {**context, "actions_as_buttons": with_buttons})
    footer = f"*Severity:* {message.severity} · <{settings.PUBLIC_URL}|{_slack_escape(settings.SITE_NAME)}>"
    # After the context block: Mattermost (which reads no Block Kit) reads blocks 1 and 2.
    buttons = _slack_buttons(context) if with_buttons else []
    return {
        # The notification fallback is mrkdwn too: an unescaped subject could ping <!channel>.
        "text": f"[{message.severity}] {_slack_escape(message.subject)}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": message.subject[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(text)[:3000]}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": footer}]},
            *buttons,
        ],
    }


def send_slack(message: Message, delivery: Delivery) -> Outcome:
    body = json.dumps(slack_payload(message, delivery), cls=DjangoJSONEncoder).encode()
    return post_json(delivery.recipient, body, {})


def webhook_payload(message: Message, delivery: Delivery) -> dict:
    return {
        "delivery": delivery.idempotency_key,
        "message": {
            "id": message.pk,
            "kind": message.kind,
            "subject": message.subject,
            "severity": message.severity,
            "dedup_key": message.dedup_key,
            "created_at": message.created_at.isoformat(),
            "context": message.context,
        },
        "text": render_text(message, template_context(message, delivery)),
    }


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """X-Vigil-Signature: "sha256=" + hex HMAC-SHA256(secret, f"{timestamp}.{body}")."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def post_signed(
    url: str,
    payload: dict,
    *,
    secret: str,
    delivery_id: str,
    event: str,
    check_body: CheckBody | None = None,
    seconds: float | None = None,
) -> Outcome:
    """POST a JSON payload signed with `secret` (X-Vigil-Timestamp, X-Vigil-Signature): what
    webhook channels and webhook subscribers (their deliveries and their URL's challenge) send."""
    body = json.dumps(payload, cls=DjangoJSONEncoder).encode()
    timestamp = str(int(datetime.now(UTC).timestamp()))
    headers = {
        "X-Vigil-Delivery": delivery_id,
        "X-Vigil-Timestamp": timestamp,
        "X-Vigil-Signature": webhook_signature(secret, timestamp, body),
        "X-Vigil-Event": event,
    }
    return post_json(url, body, headers, check_body=check_body, seconds=seconds)


def send_webhook(message: Message, delivery: Delivery, secret: str) -> Outcome:
    return post_signed(
        delivery.recipient,
        webhook_payload(message, delivery),
        secret=secret,
        delivery_id=delivery.idempotency_key,
        event=message.kind,
    )


def statuspage_webhook_payload(message: Message, delivery: Delivery) -> dict:
    """Atlassian Statuspage's webhook body: the producer put `meta` (documentation), `page` and
    `incident` (or `component_update` and `component`) in the message context; the recipient's
    own unsubscribe URL completes `meta`."""
    shared = message.context.get("statuspage") or {}
    meta = {**(shared.get("meta") or {}), "unsubscribe": delivery.context.get("unsubscribe_url", "")}
    return {"meta": meta, **{key: value for key, value in shared.items() if key != "meta"}}


def send_subscriber_webhook(message: Message, delivery: Delivery) -> Outcome:
    """A status page subscriber's webhook: signed with the subscriber's own secret."""
    secret = delivery.context.get("signing_secret")
    if not secret:
        return Outcome.failed("the subscriber's webhook has no signing secret")
    if "statuspage" not in message.context:
        # Only incident and maintenance updates have a Statuspage shape; nothing else is theirs.
        return Outcome.failed(f"no Statuspage payload for a {message.kind} message")
    return post_signed(
        delivery.recipient,
        statuspage_webhook_payload(message, delivery),
        secret=secret,
        delivery_id=delivery.idempotency_key,
        event=message.kind,
    )


def render_plain(message: Message, delivery: Delivery) -> str:
    return render_text(message, template_context(message, delivery))
