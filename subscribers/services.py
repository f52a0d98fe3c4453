"""Subscriber services: subscribe (an address or a URL), confirm, unsubscribe, change components.

The views and the admin call these; every one is idempotent. Mail goes through the outbox
(notifications.services.message_enqueue) inside the caller's transaction, so a rolled-back
subscribe sends nothing and a committed one is sent even if the broker is down at that moment.
"""

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext, gettext_noop

from core.cache import count_in_window
from core.tokens import new_token, token_digest
from notifications.models import new_signing_secret
from notifications.services import EmailRecipient, message_enqueue, with_language
from subscribers import verify
from subscribers.models import URL_KINDS, Subscriber, SubscriberKind, SubscriberStatus

MAX_ADDRESS_LENGTH = 254


class SubscriberError(ValueError):
    """Input the subscriber services refuse (the views answer 400 with the message).
    `field` names the input it is about."""

    field = "email"


class ComponentChoiceError(SubscriberError):
    field = "components"


class TokenError(SubscriberError):
    """A link that does not (or no longer) work. `reason` is invalid / expired / used."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class RateLimited(Exception):
    # Whole sentences per case, so each language can word them its own way.
    MESSAGES = {
        "network address": gettext_noop(
            "Too many subscribe requests from this network address; try again in %(seconds)d s."
        ),
        "e-mail address": gettext_noop(
            "Too many subscribe requests for this e-mail address; try again in %(seconds)d s."
        ),
        "URL": gettext_noop("Too many subscribe requests for this URL; try again in %(seconds)d s."),
    }

    def __init__(self, retry_after: int, what: str) -> None:
        super().__init__(gettext(self.MESSAGES[what]) % {"seconds": retry_after})
        self.retry_after = retry_after


# --- addresses ----------------------------------------------------------------------------


def normalise_email(raw: object) -> str:
    """Trim, lower-case and IDNA-encode the domain, and refuse anything that is not one plain
    address: control characters (header injection), display names, lists, over-long input."""
    if not isinstance(raw, str):
        raise SubscriberError(gettext("Enter an e-mail address."))
    address = raw.strip()
    if not address:
        raise SubscriberError(gettext("Enter an e-mail address."))
    if len(address) > MAX_ADDRESS_LENGTH:
        raise SubscriberError(
            gettext("An e-mail address has at most %(count)d characters.") % {"count": MAX_ADDRESS_LENGTH}
        )
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in address):
        raise SubscriberError(gettext("An e-mail address cannot contain line breaks or control characters."))
    if any(ch in address for ch in ' ,;<>()[]\\"'):
        raise SubscriberError(gettext("Enter one plain e-mail address, such as name@example.com."))
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise SubscriberError(gettext("Enter a valid e-mail address, such as name@example.com."))
    try:
        domain = domain.lower().encode("idna").decode("ascii")
    except UnicodeError:
        raise SubscriberError(gettext("The domain of this e-mail address is not valid.")) from None
    address = f"{local}@{domain}"
    try:
        validate_email(address)
    except ValidationError:
        raise SubscriberError(gettext("Enter a valid e-mail address, such as name@example.com.")) from None
    if "." not in domain:
        # validate_email allows "localhost"-style domains; nobody on the public internet has one.
        raise SubscriberError(gettext("Enter a valid e-mail address, such as name@example.com."))
    return address


def _hit(key: str, limit: int, window: int, now: float) -> int | None:
    """Count one request in a fixed window; returns seconds to wait when over the limit.
    A cache outage counts as zero (ResilientRedisCache): subscribing must not break with it."""
    slot = int(now // window)
    count = count_in_window(f"subscribers:rate:{key}:{slot}", window + 5)
    if count is not None and count > limit:
        return max(1, int((slot + 1) * window - now))
    return None


def rate_check_ip(*, client_ip: str, now: float | None = None) -> None:
    """Raise RateLimited when this client asked too often (counted before the address is even
    read, so malformed floods are limited too)."""
    now = time.time() if now is None else now
    wait = _hit(f"ip:{client_ip}", settings.SUBSCRIBERS_RATE_PER_IP, settings.SUBSCRIBERS_RATE_WINDOW, now)
    if wait:
        raise RateLimited(wait, "network address")


def rate_check_address(*, address: str, now: float | None = None, what: str = "e-mail address") -> None:
    """Raise RateLimited when this address was asked for too often. It counts whether or not
    the address is subscribed, so the limit cannot be used to probe for subscribers."""
    now = time.time() if now is None else now
    key = f"addr:{token_digest(address.lower())}"
    wait = _hit(key, settings.SUBSCRIBERS_RATE_PER_ADDRESS, settings.SUBSCRIBERS_RATE_WINDOW, now)
    if wait:
        raise RateLimited(wait, what)


# --- services -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SubscribeResult:
    subscriber: Subscriber
    mailed: str  # "confirm" or "already_subscribed": what the address was sent (never shown)


def _mail_context() -> dict:
    """What the status page adds to these mails (its branding), named by a setting because
    the status page is a layer above this app."""
    name = settings.SUBSCRIBERS_MAIL_CONTEXT_FUNCTION
    return import_string(name)() if name else {}


def language_of(language: str) -> str:
    """A language code as a subscriber row keeps it: one of LANGUAGES, or blank for the default."""
    codes = [code for code, _name in settings.LANGUAGES]
    return language if language in codes and language != settings.LANGUAGE_CODE else ""


def _send_confirmation(subscriber: Subscriber, token: str, language: str) -> None:
    confirm_url = settings.PUBLIC_URL + reverse("subscribers:confirm", args=[token])
    message_enqueue(
        kind="subscriber.confirm",
        subject=f"Confirm your subscription to {settings.SITE_NAME} status updates",
        template="subscriber_confirm",
        context={"hours": settings.SUBSCRIBERS_CONFIRM_HOURS, **_mail_context()},
        severity="low",
        dedup_key=f"subscriber-confirm:{subscriber.pk}:{token_digest(token)[:32]}",
        channels=[],
        emails=[EmailRecipient(subscriber.email, with_language({"confirm_url": confirm_url}, language))],
    )


def _send_already_subscribed(subscriber: Subscriber, now: datetime, language: str) -> None:
    # One per rate window at most (the dedup key holds the window), on top of the rate limit.
    slot = int(now.timestamp() // settings.SUBSCRIBERS_RATE_WINDOW)
    message_enqueue(
        kind="subscriber.already",
        subject=f"You are subscribed to {settings.SITE_NAME} status updates",
        template="subscriber_already",
        context=_mail_context(),
        severity="low",
        dedup_key=f"subscriber-already:{subscriber.pk}:{slot}",
        channels=[],
        emails=[EmailRecipient(subscriber.email, with_language(subscriber.links(), language))],
    )


def subscriber_subscribe(
    *, email: str, components: Iterable[models.Model] = (), language: str = ""
) -> SubscribeResult:
    """Create or re-use the row for this address and mail it.

    New, pending or unsubscribed: (back to) pending with a fresh confirmation token, which
    replaces any earlier one, and the chosen components. Already confirmed: nothing changes
    (the caller does not hold the manage link, so it may not change the choice) and the address
    gets a note with its manage link. The caller answers the same in every case. `language` is
    the one the person subscribed in: their mail is written in it from now on (a confirmed row
    keeps its own, as it keeps its components).

    Every case also runs the same statements in the same order (insert if absent, lock, update,
    set the components, one mail): a path with less work would answer measurably sooner, and
    that time would tell anyone whether an address is subscribed."""
    address = normalise_email(email)
    components = list(components)
    now = timezone.now()
    with transaction.atomic():
        # ON CONFLICT DO NOTHING: no savepoint and no second query when the address exists, or
        # when a concurrent subscribe of the same address inserts it first.
        Subscriber.objects.bulk_create([Subscriber(email=address, created_at=now)], ignore_conflicts=True)
        subscriber = (
            Subscriber.objects.select_for_update()
            .prefetch_related("components")
            .get(kind=SubscriberKind.EMAIL, email__iexact=address)
        )
        confirmed = subscriber.status == SubscriberStatus.CONFIRMED
        token = new_token()
        if not confirmed:
            subscriber.status = SubscriberStatus.PENDING
            subscriber.confirm_token_digest = token_digest(token)
            subscriber.confirm_sent_at = now
            subscriber.language = language_of(language)
        # For a confirmed row this writes back the values it holds (and its updated_at).
        subscriber.save(
            update_fields=["status", "confirm_token_digest", "confirm_sent_at", "language", "updated_at"]
        )
        subscriber.components.set(list(subscriber.components.all()) if confirmed else components)
        if confirmed:
            _send_already_subscribed(subscriber, now, language_of(language))
            return SubscribeResult(subscriber, "already_subscribed")
        _send_confirmation(subscriber, token, subscriber.language)
    return SubscribeResult(subscriber, "confirm")


# --- URL subscribers (webhook, Slack, Teams) -------------------------------------------------


class UrlError(SubscriberError):
    field = "url"


def normalise_url(*, kind: object, url: object) -> tuple[str, str]:
    """(kind, url) as stored, or UrlError saying what is wrong with either."""
    if kind not in URL_KINDS:
        raise UrlError(f"kind must be one of email, {', '.join(URL_KINDS)}.")
    if isinstance(url, str):
        url = url.strip()
    problem = verify.url_problem(kind, url)
    if problem:
        raise UrlError(problem)
    return str(kind), url


@dataclass(frozen=True)
class UrlSubscribeResult:
    subscriber: Subscriber
    outcome: str  # "confirmed", "pending" (the URL failed its check: see error) or "already_subscribed"
    secret: str = ""  # a webhook's new signing secret, given only with "confirmed": shown once
    error: str = ""


def subscriber_subscribe_url(
    *, kind: str, url: str, components: Iterable[models.Model] = ()
) -> UrlSubscribeResult:
    """Subscribe a webhook, Slack or Teams URL, and prove it with one bounded attempt.

    New, pending or unsubscribed: (back to) pending with the chosen components and, for a
    webhook, a new signing secret; then the challenge (webhook) or test message (Slack, Teams).
    Confirmed only when it succeeded; otherwise the row stays pending with the error, and
    subscribing again is the retry. Already confirmed: nothing changes and no secret is shown
    (whoever knows a URL does not get to read or replace its secret)."""
    kind, url = normalise_url(kind=kind, url=url)
    components = list(components)
    now = timezone.now()
    attempt = new_token()
    with transaction.atomic():
        Subscriber.objects.bulk_create(
            [Subscriber(kind=kind, url=url, created_at=now)], ignore_conflicts=True
        )
        subscriber = Subscriber.objects.select_for_update().get(kind=kind, url=url)
        if subscriber.status == SubscriberStatus.CONFIRMED:
            return UrlSubscribeResult(subscriber, "already_subscribed")
        subscriber.status = SubscriberStatus.PENDING
        subscriber.secret = new_signing_secret() if kind == SubscriberKind.WEBHOOK else ""
        # Marks this attempt (never given out, so no link confirms it): a newer subscribe of the
        # same URL replaces it, and this attempt's verdict is then not written over the newer one.
        subscriber.confirm_token_digest = token_digest(attempt)
        subscriber.confirm_sent_at = now
        subscriber.verify_error = ""
        subscriber.save(
            update_fields=[
                "status",
                "secret",
                "confirm_token_digest",
                "confirm_sent_at",
                "verify_error",
                "updated_at",
            ]
        )
        subscriber.components.set(components)
    # After commit: no row lock is held while a stranger's URL takes its time to answer.
    error = verify.verify_url(kind=kind, url=url, secret=subscriber.secret, links=subscriber.links())
    mine = Subscriber.objects.filter(
        pk=subscriber.pk, status=SubscriberStatus.PENDING, confirm_token_digest=token_digest(attempt)
    )
    done = timezone.now()
    if error:
        mine.update(verify_error=error[:2000], updated_at=done)
        subscriber.refresh_from_db()
        return UrlSubscribeResult(subscriber, "pending", error=error)
    changed = mine.update(
        status=SubscriberStatus.CONFIRMED,
        confirmed_at=done,
        confirm_token_digest="",
        verify_error="",
        updated_at=done,
    )
    subscriber.refresh_from_db()
    if not changed:
        return UrlSubscribeResult(
            subscriber, "pending", error="A newer subscribe request for this URL replaced this one."
        )
    return UrlSubscribeResult(subscriber, "confirmed", secret=subscriber.secret)


TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")


def subscriber_for_confirm_token(
    token: str, *, now: datetime | None = None, lock: bool = False
) -> Subscriber:
    """The subscriber a confirmation link stands for, or TokenError saying why not."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        raise TokenError("invalid", gettext("This confirmation link is not valid."))
    rows = Subscriber.objects.select_for_update() if lock else Subscriber.objects
    subscriber = rows.filter(confirm_token_digest=token_digest(token)).first()
    if subscriber is None:
        raise TokenError(
            "invalid",
            gettext("This confirmation link is not valid. It may have been replaced by a newer one."),
        )
    if subscriber.status == SubscriberStatus.UNSUBSCRIBED:
        raise TokenError(
            "used", gettext("This confirmation link was already used, and you have unsubscribed since.")
        )
    if subscriber.status == SubscriberStatus.PENDING and subscriber.confirm_expired(now):
        hours = settings.SUBSCRIBERS_CONFIRM_HOURS
        raise TokenError(
            "expired",
            gettext("This confirmation link has expired (links work for %(hours)d hours).")
            % {"hours": hours},
        )
    return subscriber


def subscriber_confirm(*, token: str, now: datetime | None = None) -> Subscriber:
    """Confirm the subscription the token was issued for. Confirming twice is a no-op."""
    now = now or timezone.now()
    with transaction.atomic():
        # Locked, so a concurrent unsubscribe or a newer token is seen, not overwritten.
        subscriber = subscriber_for_confirm_token(token, now=now, lock=True)
        if subscriber.status == SubscriberStatus.PENDING:
            subscriber.status = SubscriberStatus.CONFIRMED
            subscriber.confirmed_at = now
            subscriber.save(update_fields=["status", "confirmed_at", "updated_at"])
    return subscriber


def subscriber_for_manage_token(token: str) -> Subscriber:
    # The alphabet of new_token(): anything else (a NUL byte, which PostgreSQL would refuse to
    # compare) cannot be a token.
    if not isinstance(token, str) or not TOKEN.fullmatch(token):
        raise TokenError("invalid", gettext("This link is not valid."))
    subscriber = Subscriber.objects.filter(manage_token=token).first()
    if subscriber is None:
        raise TokenError("invalid", gettext("This link is not valid. Check that it was copied in full."))
    return subscriber


def subscriber_unsubscribe(*, subscriber: Subscriber, now: datetime | None = None) -> bool:
    """Stop all mail to this subscriber. Returns False when it already was unsubscribed."""
    now = now or timezone.now()
    updated = Subscriber.objects.filter(pk=subscriber.pk).exclude(status=SubscriberStatus.UNSUBSCRIBED)
    # A conditional UPDATE: two clicks (or a mail client's one-click POST and the button)
    # racing each other unsubscribe once and record the first time.
    changed = updated.update(status=SubscriberStatus.UNSUBSCRIBED, unsubscribed_at=now, updated_at=now)
    subscriber.refresh_from_db()
    return bool(changed)


def subscriber_update_components(*, subscriber: Subscriber, components: Iterable[models.Model]) -> Subscriber:
    """Replace the chosen components (none = every component)."""
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if subscriber.status == SubscriberStatus.UNSUBSCRIBED:
            raise ComponentChoiceError(
                gettext("This address is unsubscribed; subscribe again on the status page first.")
            )
        subscriber.components.set(list(components))
        subscriber.save(update_fields=["updated_at"])
    return subscriber
