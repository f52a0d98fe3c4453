"""URL subscribers: which URLs are taken, and the one attempt that proves a URL before use.

- A webhook URL follows the outbound rule for webhooks (core.outbound: http(s), no credentials,
  no private address unless WEBHOOK_ALLOWED_NETWORKS lists it). Vigil POSTs it a challenge,
  signed with the new secret; the receiver must answer 2xx with the challenge as its body, or a
  JSON object whose "challenge" is it.
- A Slack or Teams URL must also be on one of the hosts of SUBSCRIBERS_SLACK_HOSTS /
  SUBSCRIBERS_TEAMS_HOSTS, over https (plain http only for a host in WEBHOOK_ALLOWED_NETWORKS),
  and must accept a test message formatted for it.

The attempt is one request through the notifications senders (the send-time outbound check,
redirects refused, at most MAX_ANSWER_BYTES read) under one total deadline of
SUBSCRIBERS_VERIFY_SECONDS: a slow, silent or hostile URL costs that much once, never more.
Nothing here writes; subscribers.services records the verdict.
"""

import fnmatch
import ipaddress
import json
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext

from core import outbound
from core.tokens import new_token
from notifications.models import Delivery, DeliveryAttempt, Message
from notifications.providers import notice_for, teams_answer, teams_payload
from notifications.senders import Outcome, post_json, post_signed, slack_payload
from subscribers.models import SubscriberKind

CHALLENGE_EVENT = "subscription.challenge"


class UrlRefused(ValueError):
    """A URL this kind of subscriber may not have; the message says why."""


def _host_allowed(host: str, patterns: list[str]) -> bool:
    host = host.lower().rstrip(".")
    return any(fnmatch.fnmatchcase(host, pattern.lower()) for pattern in patterns)


def _in_allowed_network(host: str) -> bool:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(n, strict=False) for n in settings.WEBHOOK_ALLOWED_NETWORKS)


def url_problem(kind: str, url: object) -> str | None:
    """Why `url` cannot be a subscriber of `kind`, or None. Looks at the URL only (no DNS)."""
    problem = outbound.check_url(url, outbound.WEBHOOK)
    if problem:
        return problem
    if kind == SubscriberKind.WEBHOOK:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    patterns = (
        settings.SUBSCRIBERS_SLACK_HOSTS if kind == SubscriberKind.SLACK else settings.SUBSCRIBERS_TEAMS_HOSTS
    )
    slack = kind == SubscriberKind.SLACK
    if not _host_allowed(host, patterns):
        wrong_host = (
            gettext("A Slack incoming webhook URL is on %(hosts)s; this one is on %(host)s.")
            if slack
            else gettext(
                "A Microsoft Teams webhook or workflow URL is on %(hosts)s; this one is on %(host)s."
            )
        )
        return wrong_host % {"hosts": ", ".join(patterns), "host": host}
    if parts.scheme != "https" and not _in_allowed_network(host):
        if slack:
            return gettext("A Slack incoming webhook URL starts with https://.")
        return gettext("A Microsoft Teams webhook or workflow URL starts with https://.")
    return None


def _challenge_answered(challenge: str):
    def check(answer: bytes) -> Outcome | None:
        if answer.strip() == challenge.encode():
            return None
        try:
            body = json.loads(answer)
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("challenge") == challenge:
            return None
        return Outcome.failed("the URL answered 2xx but its body was not the challenge")

    return check


def challenge_webhook(*, url: str, secret: str) -> Outcome:
    """POST a fresh challenge, signed with `secret`; sent only if the answer echoes it."""
    challenge = new_token()
    payload = {
        "type": CHALLENGE_EVENT,
        "challenge": challenge,
        "page": {"name": settings.SITE_NAME, "url": settings.PUBLIC_URL},
    }
    return post_signed(
        url,
        payload,
        secret=secret,
        delivery_id=f"challenge-{challenge[:16]}",
        event=CHALLENGE_EVENT,
        check_body=_challenge_answered(challenge),
        seconds=settings.SUBSCRIBERS_VERIFY_SECONDS,
    )


def _test_message(kind: str, url: str, links: dict) -> tuple[Message, Delivery]:
    # Never saved: the formatters only read these rows' fields.
    message = Message(
        kind="subscriber.verify",
        subject=f"{settings.SITE_NAME} status updates will be posted here",
        template="subscriber_verify",
        context={"body": f"This is a test message: {settings.SITE_NAME} status updates will appear here."},
        severity="low",
    )
    delivery = Delivery(kind=kind, recipient=url, context=links, idempotency_key=f"verify-{new_token()[:16]}")
    return message, delivery


def post_test_message(*, kind: str, url: str, links: dict) -> Outcome:
    """Post a test message formatted for Slack or Teams."""
    message, delivery = _test_message(kind, url, links)
    seconds = settings.SUBSCRIBERS_VERIFY_SECONDS
    if kind == SubscriberKind.SLACK:
        body = json.dumps(slack_payload(message, delivery)).encode()
        return post_json(url, body, {}, seconds=seconds)
    body = json.dumps(teams_payload(notice_for(message, delivery))).encode()
    return post_json(url, body, {}, explain=teams_answer, seconds=seconds)


def verify_url(*, kind: str, url: str, secret: str, links: dict) -> str:
    """One bounded attempt at proving the URL; "" when it succeeded, else what went wrong."""
    if kind == SubscriberKind.WEBHOOK:
        outcome = challenge_webhook(url=url, secret=secret)
        what = "The webhook did not answer the challenge"
    else:
        outcome = post_test_message(kind=kind, url=url, links=links)
        what = "The test message was not accepted"
    if outcome.result == DeliveryAttempt.Outcome.SENT:
        return ""
    return f"{what}: {outcome.error or 'no answer'}"
