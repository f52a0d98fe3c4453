"""Notifications: the producer interface and the operations staff and jobs call.

Producers (alerts, incidents, maintenance, subscriber mail) call exactly one function,
`message_enqueue`, INSIDE their own transaction:

    from notifications.services import EmailRecipient, message_enqueue

    with transaction.atomic():
        update = incident_update_create(incident=incident, status="identified", message="...")
        message_enqueue(
            kind="incident.update",
            subject=f"[{update.get_status_display()}] {incident.title}",
            template="statuspage_incident",       # templates/notifications/statuspage_incident.{txt,html}
            context={"body": update.message, "url": incident_url},
            severity="high",
            dedup_key=f"incident-update:{update.pk}",
            channels=None,                        # None: every enabled channel at this severity
            emails=(                              # optional, may be a generator of 100,000
                EmailRecipient(s.email, s.links())
                for s in subscribers.iterator()
            ),
        )

What it guarantees:
- If the producer's transaction rolls back, nothing was written and nothing is sent.
- A second call with the same dedup_key (a producer retry) writes nothing and returns the
  first message (`message.created_now` is False).
- Exactly one Delivery row per (message, recipient): unique idempotency key. An address given
  twice (a channel and the list, or twice in the list; case-insensitive) is one delivery.
- Sending starts after commit (transaction.on_commit); if the broker is down at that moment,
  the beat sweeper `send_due_deliveries` sends it within NOTIFICATIONS_SWEEP_INTERVAL.
"""

import hashlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import F, Min, Q, QuerySet
from django.utils import timezone

from core.batches import delete_in_batches
from notifications import tasks
from notifications.delivery_writer import write_deliveries, write_messages
from notifications.environment import channels_sync_from_settings  # noqa: F401  (part of this interface)
from notifications.models import (
    Channel,
    Delivery,
    DeliveryAttempt,
    Message,
    NotificationError,
    Severity,
    StaffNotification,
    StaffNotificationRead,
    default_give_up_at,
)
from notifications.outbox import deliveries_send_due, deliveries_send_range, message_dispatch  # noqa: F401

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmailRecipient:
    """One explicit e-mail recipient (a subscriber) and the context only their mail carries.

    Recognised context keys: `unsubscribe_url` (a page, shown in the mail; also the
    List-Unsubscribe header when there is no one-click URL), `unsubscribe_one_click_url` (a URL
    that unsubscribes on POST: List-Unsubscribe + List-Unsubscribe-Post, RFC 8058),
    `manage_url`, `language` (the mail is written in that language: see with_language). Any
    other key is available to the templates."""

    address: str
    context: dict[str, Any] = field(default_factory=dict)


def with_language(context: dict[str, Any], language: str) -> dict[str, Any]:
    """A recipient's context asking for their mail in `language` (a code of LANGUAGES; blank:
    the default). The sender renders the templates and the subject template
    (`<template>.subject.txt`) in it; the message row keeps the default language's subject."""
    return {**context, "language": language} if language else context


RecipientLike = EmailRecipient | tuple[str, dict] | str


@dataclass(frozen=True)
class UrlRecipient:
    """One explicit recipient that is a URL (a status page subscriber's webhook, Slack or Teams
    URL). `kind` is the sender (webhook, slack, teams); `identity` names the recipient for the
    idempotency key ("subscriber:42"), so it gets one delivery per message whatever its URL is.

    Context keys the senders read: `unsubscribe_url`; for a webhook, `signing_secret` (the
    delivery is signed with it) and `payload` = "statuspage" (the body is the message context's
    `statuspage` object with `meta.unsubscribe` filled in from the recipient's own context)."""

    kind: str
    url: str
    identity: str
    context: dict[str, Any] = field(default_factory=dict)


def _as_recipient(item: RecipientLike) -> EmailRecipient:
    if isinstance(item, EmailRecipient):
        return item
    if isinstance(item, str):
        return EmailRecipient(item)
    address, context = item
    return EmailRecipient(address, context or {})


def _validate(
    *, kind: str, subject: str, severity: str, dedup_key: str, template: str, context: dict
) -> None:
    if severity not in Severity.values:
        raise NotificationError(f"severity must be one of {', '.join(Severity.values)}; got {severity!r}")
    for name, value, limit in (("kind", kind, 100), ("subject", subject, 300), ("dedup_key", dedup_key, 200)):
        if not value or not str(value).strip():
            raise NotificationError(f"{name} must not be empty")
        if len(value) > limit:
            raise NotificationError(f"{name} must be at most {limit} characters")
    if len(template) > 100 or "/" in template or ".." in template:
        raise NotificationError(
            f"template must be a plain name under templates/notifications/; got {template!r}"
        )
    if not isinstance(context, dict):
        raise NotificationError("context must be a dict")
    try:
        DjangoJSONEncoder().encode(context)
    except TypeError as exc:
        raise NotificationError(f"context must be JSON-serialisable ({exc})") from None


def channels_for(
    severity: str, channels: Iterable[Channel | int] | None, message_kind: str = ""
) -> list[Channel]:
    """Enabled channels that admit `severity` and take messages of `message_kind`: all of
    them, or only those listed."""
    queryset = Channel.objects.filter(enabled=True)
    if channels is not None:
        ids = [c.pk if isinstance(c, Channel) else int(c) for c in channels]
        queryset = queryset.filter(pk__in=ids)
    return [
        channel
        for channel in queryset.order_by("pk")
        if channel.admits(severity) and channel.takes(message_kind)
    ]


def _delivery_rows(
    message: Message,
    channels: list[Channel],
    emails: Iterable[RecipientLike] | None,
    now: datetime,
    urls: Iterable[UrlRecipient] | None = None,
) -> Iterator[tuple]:
    """Rows in delivery_writer.COLUMNS order: each channel's recipients, then the e-mails."""
    limit, give_up_at = settings.NOTIFICATIONS_MAX_ATTEMPTS, default_give_up_at(now)
    for channel in channels:
        for recipient in channel.recipient_list():
            key = Delivery.make_key(message.pk, channel.kind, recipient)
            yield (
                message.pk,
                channel.pk,
                channel.kind,
                recipient,
                {},
                key,
                limit,
                now,
                give_up_at,
                now,
                None,
            )
    email = Channel.Kind.EMAIL
    for item in emails or ():
        recipient = _as_recipient(item)
        address = recipient.address.strip()
        key = Delivery.make_key(message.pk, email, address)
        yield (
            message.pk,
            None,
            email,
            address[:1000],
            recipient.context,
            key,
            limit,
            now,
            give_up_at,
            now,
            None,
        )
    for target in urls or ():
        key = Delivery.make_key(message.pk, target.kind, target.identity)
        yield (
            message.pk,
            None,
            target.kind,
            target.url[:1000],
            target.context,
            key,
            limit,
            now,
            give_up_at,
            now,
            None,
        )


def _write_deliveries(
    message: Message,
    channels: list[Channel],
    emails: Iterable[RecipientLike] | None,
    urls: Iterable[UrlRecipient] | None = None,
):
    now = timezone.now()
    write_deliveries(_delivery_rows(message, channels, emails, now, urls), now)


def message_dispatch_after_commit(message_id: int) -> None:
    """Hand the message to a worker. A broker outage here only delays it: the row is committed
    and the sweeper finds it, so we log instead of failing the producer's request."""
    try:
        tasks.dispatch_message.apply_async((message_id,), retry=False)
    except Exception as exc:
        log.warning("message %s: broker unavailable (%s); the sweeper will send it", message_id, exc)


def message_enqueue(
    *,
    kind: str,
    subject: str,
    severity: str,
    dedup_key: str,
    template: str = "",
    context: dict[str, Any] | None = None,
    channels: Iterable[Channel | int] | None = None,
    emails: Iterable[RecipientLike] | None = None,
    urls: Iterable[UrlRecipient] | None = None,
) -> Message:
    """Write a message and its deliveries in the caller's transaction; send after commit.

    kind       what produced it ("alert.firing", "incident.update", ...), shown in the admin
               and sent as X-Vigil-Event to webhooks.
    subject    e-mail subject, Slack header, dashboard title.
    severity   low / medium / high / critical; a channel gets the message only when it is at
               least the channel's minimum severity.
    dedup_key  unique per message; calling again with it returns the existing message and
               writes nothing (the producer's retry is safe).
    template   name under templates/notifications/ (NAME.txt and NAME.html); missing files fall
               back to generic.txt / generic.html. Templates see the context plus subject,
               severity, message_kind, site_name, public_url and each recipient's own context.
    context    JSON-serialisable dict shared by all recipients (conventional keys: body, url).
    channels   None: every enabled channel that admits the severity. A list of Channel rows or
               ids: only those (still only if enabled and admitting). []: no channel at all.
    emails     explicit e-mail recipients, any iterable (a generator over 100,000 subscribers is
               fine: it is consumed in batches, never held in memory) of EmailRecipient,
               (address, context) tuples or plain addresses.

    Returns the Message; `message.created_now` says whether this call created it.
    """
    context = context or {}
    _validate(
        kind=kind, subject=subject, severity=severity, dedup_key=dedup_key, template=template, context=context
    )
    # All or nothing even when called outside a transaction (autocommit): a half-written
    # fan-out could never be completed, since a retry with the same dedup_key writes nothing.
    with transaction.atomic():
        try:
            with transaction.atomic():
                message = Message.objects.create(
                    kind=kind,
                    subject=subject,
                    template=template,
                    context=context,
                    severity=severity,
                    dedup_key=dedup_key,
                )
        except IntegrityError:
            # Unique dedup_key: a retry (or a concurrent twin, once it committed) gets the first one.
            existing = Message.objects.get(dedup_key=dedup_key)
            existing.created_now = False
            return existing
        _write_deliveries(message, channels_for(severity, channels, kind), emails, urls)
        transaction.on_commit(partial(message_dispatch_after_commit, message.pk))
    message.created_now = True
    return message


def channel_save(*, channel: Channel) -> Channel:
    """Create or change a channel after the model's own checks for its kind (the admin form
    runs the same checks through the form). Raises ValidationError naming the field."""
    channel.full_clean(exclude=["env_key"])
    channel.save()
    return channel


def channel_delete(*, channel: Channel) -> None:
    """Remove a channel. Its past deliveries stay (they keep their recipient and outcome); rules,
    steps and checks that named it simply no longer send there."""
    channel.delete()


def channel_send_test(*, channel: Channel) -> Message:
    """Send a test notification to one channel, even a disabled one (to check it before
    enabling it), whatever its minimum severity."""
    now = timezone.now()
    digest = hashlib.sha256(f"{channel.pk}:{now.isoformat()}".encode()).hexdigest()[:12]
    message = Message.objects.create(
        kind="test",
        subject=f"Test notification from {settings.SITE_NAME}",
        template="test",
        context={"body": f"This is a test of the channel “{channel.name}”.", "channel": channel.name},
        severity=Severity.LOW,
        dedup_key=f"test:{channel.pk}:{digest}",
    )
    _write_deliveries(message, [channel], None)
    transaction.on_commit(partial(message_dispatch_after_commit, message.pk))
    return message


def deliveries_retry_now(*, deliveries: QuerySet) -> int:
    """Make failed or pending deliveries due now, with a fresh attempt and age budget.
    Sent rows, and rows a live worker holds, are left alone. Returns how many were reset."""
    now = timezone.now()
    free = ~Q(status=Delivery.Status.SENT) & (Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
    ids = list(deliveries.filter(free).values_list("pk", flat=True))
    # The condition is repeated in the UPDATE: a row a worker claimed (or sent) since the
    # SELECT is re-checked under its row lock and left alone, so its claim is never stolen.
    count = Delivery.objects.filter(free, pk__in=ids).update(
        status=Delivery.Status.PENDING,
        next_attempt_at=now,
        attempt_limit=F("attempts") + settings.NOTIFICATIONS_MAX_ATTEMPTS,
        give_up_at=default_give_up_at(now),
        claim_token=None,
        claimed_until=None,
    )
    if ids:

        def dispatch() -> None:
            try:
                tasks.send_delivery_range.apply_async((min(ids), max(ids)), retry=False)
            except Exception as exc:
                log.warning("retry now: broker unavailable (%s); the sweeper will send them", exc)

        transaction.on_commit(dispatch)
    return count


# --- the in-app inbox -------------------------------------------------------------------


def staff_notifications_unread(*, user) -> QuerySet:
    return StaffNotification.objects.exclude(reads__user=user)


def staff_notifications_unread_count(*, user) -> int:
    if not getattr(user, "is_staff", False):
        return 0
    return staff_notifications_unread(user=user).count()


def staff_notifications_mark_read(*, user, notifications: Iterable[StaffNotification]) -> int:
    reads = [StaffNotificationRead(notification=n, user=user) for n in notifications]
    StaffNotificationRead.objects.bulk_create(reads, ignore_conflicts=True)
    return len(reads)


# --- retention ----------------------------------------------------------------------------


def notifications_purge(now: datetime | None = None, *, days: int | None = None) -> dict[str, int]:
    """Delete what is older than LOGS_RETENTION_DAYS: attempts, finished messages (with their
    deliveries) and dashboard notifications. A message with a pending delivery is kept, so
    purging never loses a send. One of the purge functions of purge_old_data."""
    cutoff = (now or timezone.now()) - timedelta(days=days or settings.LOGS_RETENTION_DAYS)
    attempts = delete_in_batches(DeliveryAttempt.objects.filter(started_at__lt=cutoff))
    notices = delete_in_batches(StaffNotification.objects.filter(updated_at__lt=cutoff))
    finished = Message.objects.filter(created_at__lt=cutoff).exclude(
        deliveries__status=Delivery.Status.PENDING
    )
    deliveries = delete_in_batches(Delivery.objects.filter(message__in=finished.values("pk")))
    messages = delete_in_batches(finished)
    return {
        "delivery attempts": attempts,
        "staff notifications": notices,
        "deliveries": deliveries,
        "messages": messages,
    }


# --- many messages at once, to people as well as channels -----------------------------------


@dataclass(frozen=True)
class Target:
    """One delivery to a person's own address rather than a channel's: `kind` is the sender
    (email, ntfy), `key` its idempotency key (unique across the outbox: the producer names what
    makes it one), `due_at` when to send it (None: now)."""

    kind: str
    recipient: str
    key: str
    due_at: datetime | None = None
    person_id: int | None = None
    context: dict[str, Any] = field(default_factory=dict)
    # The channel whose credentials send it (a person's SMS goes out through a Twilio channel).
    channel_id: int | None = None


@dataclass(frozen=True)
class Outgoing:
    """One message of a batch (see messages_enqueue_many). `channels` must already be the ones
    that take it (enabled, admitting its severity)."""

    kind: str
    subject: str
    severity: str
    dedup_key: str
    template: str = ""
    context: dict[str, Any] = field(default_factory=dict)
    thread: str = ""
    channels: tuple[Channel, ...] = ()
    targets: tuple[Target, ...] = ()


def _batch_rows(items: list[Outgoing], ids: dict[str, int], now: datetime) -> Iterator[tuple]:
    limit = settings.NOTIFICATIONS_MAX_ATTEMPTS
    for item in items:
        message_id = ids[item.dedup_key]
        for channel in item.channels:
            for recipient in channel.recipient_list():
                key = Delivery.make_key(message_id, channel.kind, recipient)
                yield (message_id, channel.pk, channel.kind, recipient, {}, key, limit, now,
                       default_give_up_at(now), now, None)  # fmt: skip
        for target in item.targets:
            due = target.due_at or now
            yield (message_id, target.channel_id, target.kind, target.recipient[:1000], target.context,
                   target.key, limit, due, default_give_up_at(due), now, target.person_id)  # fmt: skip


def messages_enqueue_many(items: Iterable[Outgoing]) -> int:
    """Write many messages and their deliveries in the caller's transaction, in a fixed number
    of queries however many there are; what is due now is sent after commit, what is due later
    is sent by the `send_due_deliveries` sweep when its time comes.

    Idempotent like message_enqueue: a message whose dedup_key exists already, and a delivery
    whose key exists already, are not written again. Returns the number of messages given."""
    items = [item for item in items if item.channels or item.targets]
    if not items:
        return 0
    for item in items:
        _validate(
            kind=item.kind,
            subject=item.subject,
            severity=item.severity,
            dedup_key=item.dedup_key,
            template=item.template,
            context=item.context,
        )
        if len(item.thread) > 100:
            raise NotificationError("thread must be at most 100 characters")
    now = timezone.now()
    with transaction.atomic():
        write_messages(
            (i.kind, i.subject, i.template, i.context, i.severity, i.dedup_key, now, i.thread) for i in items
        )
        ids = dict(
            Message.objects.filter(dedup_key__in=[item.dedup_key for item in items]).values_list(
                "dedup_key", "pk"
            )
        )
        write_deliveries(_batch_rows(items, ids, now), now)
        first = Delivery.objects.filter(message__in=ids.values()).aggregate(first=Min("pk"))["first"]
        if first is None:
            return len(items)

        def dispatch() -> None:
            # One range task for everything due now; the rows due later wait for the sweep.
            try:
                tasks.send_delivery_range.apply_async((first, 2**62), retry=False)
            except Exception as exc:
                log.warning("batch: broker unavailable (%s); the sweeper will send it", exc)

        transaction.on_commit(dispatch)
    return len(items)


def pages_cancel_pending(*, thread: str, reason: str) -> int:
    """Cancel the deliveries to people (pages) still waiting to be sent about `thread`: an
    acknowledged alert's pages that were due later. Channel notices are left alone, and so is a
    row a worker is sending right now."""
    now = timezone.now()
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    return (
        Delivery.objects.filter(
            free, message__thread=thread, status=Delivery.Status.PENDING, person__isnull=False
        )
        .exclude(message__thread="")
        .update(
            status=Delivery.Status.CANCELLED, last_error=reason[:500], claim_token=None, claimed_until=None
        )
    )


def thread_people(*, thread: str) -> dict[int, tuple[str, str]]:
    """The people a thread's messages went to, each with the first (kind, recipient) that was
    sent to them (or, if none was sent yet, the first meant for them)."""
    rows = (
        Delivery.objects.filter(message__thread=thread, person__isnull=False)
        .exclude(message__thread="")
        .order_by("pk")
        .values_list("person", "kind", "recipient", "status")
    )
    first: dict[int, tuple[str, str]] = {}
    sent: dict[int, tuple[str, str]] = {}
    for person, kind, recipient, status in rows:
        first.setdefault(person, (kind, recipient))
        if status == Delivery.Status.SENT:
            sent.setdefault(person, (kind, recipient))
    return {person: sent.get(person, target) for person, target in first.items()}
