"""Claiming and sending deliveries: the part that makes "never lost, never sent twice" true.

A worker claims a batch of due rows in one short transaction (SELECT ... FOR UPDATE SKIP LOCKED,
then UPDATE with a fresh claim token and a lease, claimed_until). Only the holder of the token
may mark a row sent or failed (every write says WHERE claim_token = <mine>). So:

- two workers never claim the same row (the second skips the locked / already-claimed rows);
- a duplicated or redelivered task finds the rows sent or claimed and does nothing;
- a worker that dies keeps its rows only until the lease expires; then the sweeper claims and
  sends them;
- a worker stops sending well before its lease ends (see _deadline), so a row is never sent by
  a worker whose lease already passed to another.

The one unavoidable window is between the provider accepting a send (SMTP 250, HTTP 2xx) and
our UPDATE committing: a crash exactly there resends those rows once their lease expires
(at-least-once, never silently lost). Answers are written as they arrive, by a thread of their
own (AnswerWriter), so the window is the milliseconds of one write, not a batch.

Leases compare the clocks of the hosts that run workers: keep them in sync (NTP).
"""

import contextlib
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from notifications.models import (
    Channel,
    Delivery,
    DeliveryAttempt,
    Message,
    Severity,
    StaffNotification,
    StaffNotificationRead,
)
from notifications.providers import SENDERS
from notifications.senders import (
    EmailSender,
    Outcome,
    render_plain,
    send_slack,
    send_subscriber_webhook,
    send_webhook,
)

log = logging.getLogger(__name__)


@dataclass
class SendReport:
    sent: int = 0
    retry: int = 0
    failed: int = 0
    released: int = 0
    lost_claims: int = 0
    batches: int = 0
    by_outcome: dict = field(default_factory=dict)

    def add(self, other: "SendReport") -> None:
        for name in ("sent", "retry", "failed", "released", "lost_claims", "batches"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def __str__(self) -> str:
        text = f"{self.sent} sent, {self.retry} to retry, {self.failed} failed in {self.batches} batches"
        if self.released:
            text += f", {self.released} released for later"
        return text


def backoff_seconds(attempts: int, rng: Callable[[float, float], float] = random.uniform) -> float:
    """Exponential backoff with jitter: base * 2^(n-1), capped, then scaled by 50-100 %
    so that deliveries that failed together do not all retry in the same second."""
    ceiling = min(
        settings.NOTIFICATIONS_RETRY_MAX_SECONDS,
        settings.NOTIFICATIONS_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1),
    )
    return ceiling * rng(0.5, 1.0)


def _lease() -> timedelta:
    return timedelta(seconds=settings.NOTIFICATIONS_CLAIM_SECONDS)


def _deadline(started: float, budget: float | None) -> float:
    """Stop starting new sends while there is time left for the last one: before the lease
    ends, its send deadline and a second to write its answer; before Celery's soft time limit,
    also closing the SMTP connection (one more send deadline). So the task, and the command
    that runs the same loop without a time limit, are done within CELERY_TASK_SOFT_TIME_LIMIT."""
    send = settings.NOTIFICATIONS_SEND_DEADLINE
    limit = min(
        settings.NOTIFICATIONS_CLAIM_SECONDS - send - 1,
        settings.CELERY_TASK_SOFT_TIME_LIMIT - 2 * send - 1,
    )
    if budget is not None:
        limit = min(limit, budget)
    return started + max(1.0, limit)


def claim(
    queryset, *, limit: int, now: datetime | None = None, order: str = "pk"
) -> tuple[uuid.UUID, list[int]]:
    """Claim up to `limit` due rows of `queryset` for this worker; returns the token and ids.
    `order`: "pk" for an id range (the primary key bounds the scan), "next_attempt_at" for the
    sweeper (the partial index over pending rows, so millions of sent rows are never walked)."""
    now = now or timezone.now()
    token = uuid.uuid4()
    with transaction.atomic():
        # SKIP LOCKED: a concurrent claimer takes other rows instead of waiting for ours.
        # (SQLite has no row locks; its IMMEDIATE transactions serialise claimers instead.)
        ids = list(
            queryset.claimable(now)
            .select_for_update(skip_locked=True)
            .order_by(order)
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            ids = _count_interrupted(ids, now)
            Delivery.objects.filter(pk__in=ids).update(claim_token=token, claimed_until=now + _lease())
    return token, ids


INTERRUPTED = "interrupted: the worker holding it stopped before an answer was recorded (its claim ran out)"


def _count_interrupted(ids: list[int], now: datetime) -> list[int]:
    """Rows whose claim ran out were held by a worker that was killed (or stalled) mid-batch:
    that counts as an attempt, so a row that kills its worker every time still reaches its
    attempt limit. Returns the ids still to send (those at their limit are failed here)."""
    interrupted = Delivery.objects.filter(pk__in=ids, claimed_until__isnull=False).select_related(
        "message", "channel"
    )
    failed = set()
    for delivery in interrupted:
        attempts = delivery.attempts + 1
        DeliveryAttempt.objects.create(
            delivery=delivery,
            started_at=delivery.claimed_until - _lease(),
            outcome=DeliveryAttempt.Outcome.RETRY,
            error=INTERRUPTED,
        )
        if attempts < delivery.attempt_limit:
            Delivery.objects.filter(pk=delivery.pk).update(attempts=attempts, last_error=INTERRUPTED)
            continue
        error = f"gave up after {attempts} attempts: {INTERRUPTED}"
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.FAILED,
            attempts=attempts,
            last_error=error,
            claim_token=None,
            claimed_until=None,
        )
        _staff_notice_failed(delivery, delivery.message, Outcome.failed(error), now)
        failed.add(delivery.pk)
    return [pk for pk in ids if pk not in failed]


def release(token: uuid.UUID, ids: list[int]) -> int:
    """Give rows back unsent (no attempt made), so the next sweep takes them at once."""
    return Delivery.objects.filter(pk__in=ids, claim_token=token).update(claim_token=None, claimed_until=None)


def _failure_notice(delivery: Delivery, message: Message, now: datetime) -> tuple[str, str, str, str]:
    """(dedup key, title, severity, admin link) of the staff notice a permanent failure feeds.

    A channel's failure is staff's own alerting not arriving: one notice per message and
    channel. Subscriber mail bounces are routine (a typo at sign-up, a closed mailbox): one
    notice per message kind and day, so a hundred bad addresses do not bury the inbox."""
    changelist = reverse("admin:notifications_delivery_changelist") + "?status__exact=failed"
    if delivery.channel_id:
        return (
            f"failed:{message.pk}:{delivery.channel_id}",
            f"Delivery failed: “{message.subject[:200]}” to {delivery.channel}",
            Severity.HIGH,
            f"{changelist}&message__id__exact={message.pk}&channel__id__exact={delivery.channel_id}",
        )
    day = now.date().isoformat()
    return (
        f"failed:subscribers:{message.kind}:{day}",
        f"E-mail to subscribers failed ({message.kind}, {day})",
        Severity.MEDIUM,
        f"{changelist}&channel__isnull=True",
    )


def _staff_notice_failed(delivery: Delivery, message: Message, outcome: Outcome, now: datetime) -> None:
    """Permanent failures are shown to staff as a dashboard notice that counts them and is
    marked unread again whenever the count grows."""
    key, title, severity, link = _failure_notice(delivery, message, now)
    body = f"Last failure: {delivery.recipient_display()}: {outcome.error}"
    updated = StaffNotification.objects.filter(dedup_key=key).update(
        count=F("count") + 1, updated_at=now, body=body
    )
    if not updated:
        try:
            with transaction.atomic():
                StaffNotification.objects.create(
                    dedup_key=key,
                    title=title,
                    body=body,
                    severity=severity,
                    link=link,
                    created_at=now,
                    updated_at=now,
                )
        except IntegrityError:  # another worker created it between our UPDATE and INSERT
            StaffNotification.objects.filter(dedup_key=key).update(count=F("count") + 1, updated_at=now)
    StaffNotificationRead.objects.filter(notification__dedup_key=key).delete()


def _dashboard_row(message: Message, delivery: Delivery, now: datetime) -> StaffNotification:
    return StaffNotification(
        dedup_key=f"delivery:{delivery.idempotency_key}",
        delivery=delivery,
        title=message.subject,
        body=render_plain(message, delivery),
        severity=message.severity,
        link=str(message.context.get("url", ""))[:500],
        created_at=now,
        updated_at=now,
    )


@dataclass
class Sent:
    """One provider answer waiting to be written."""

    delivery: Delivery
    message: Message
    outcome: Outcome
    started_at: datetime
    duration_ms: int


def _next_state(item: Sent, now: datetime) -> tuple[str, dict]:
    delivery, outcome = item.delivery, item.outcome
    attempts = delivery.attempts + 1
    result = outcome.result
    changes: dict = {
        "attempts": attempts,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error,
        "claim_token": None,
        "claimed_until": None,
    }
    if result == DeliveryAttempt.Outcome.RETRY:
        delay = outcome.retry_after if outcome.retry_after is not None else backoff_seconds(attempts)
        delay = max(delay, 1.0)  # "Retry-After: 0" must not make a batch spin on one row
        when = delivery.retry_at(now=now, delay=delay, attempts=attempts)
        if when is None:
            result = DeliveryAttempt.Outcome.FAILED
            changes["last_error"] = f"gave up after {attempts} attempts: {outcome.error}"
        else:
            changes["next_attempt_at"] = when
    if result == DeliveryAttempt.Outcome.SENT:
        changes.update(status=Delivery.Status.SENT, sent_at=now)
    elif result == DeliveryAttempt.Outcome.FAILED:
        changes["status"] = Delivery.Status.FAILED
    return result, changes


def record_many(token: uuid.UUID, items: list[Sent]) -> list[str]:
    """Write the attempts and the rows' next states in one transaction; returns the outcome
    recorded per item ("lost" when our claim had been taken over meanwhile: the attempt is
    logged, the row is left to its new owner)."""
    if not items:
        return []
    now = timezone.now()
    results: list[str] = []
    with transaction.atomic():
        # Lock our rows: a claimer (SKIP LOCKED) cannot take one over while we write.
        owned = set(
            Delivery.objects.select_for_update()
            .filter(pk__in=[item.delivery.pk for item in items], claim_token=token)
            .values_list("pk", flat=True)
        )
        sent_by_code: dict[int | None, list[int]] = {}
        attempts, notices = [], []
        for item in items:
            result, changes = _next_state(item, now)
            attempts.append(
                DeliveryAttempt(
                    delivery_id=item.delivery.pk,
                    started_at=item.started_at,
                    duration_ms=item.duration_ms,
                    outcome=result,
                    status_code=item.outcome.status_code,
                    error=changes["last_error"],
                )
            )
            if item.delivery.pk not in owned:
                log.warning("delivery %s: claim lost before recording %s", item.delivery.pk, result)
                results.append("lost")
                continue
            results.append(result)
            if result == DeliveryAttempt.Outcome.SENT:
                # Sent rows are the bulk: one UPDATE per status code instead of one per row.
                sent_by_code.setdefault(item.outcome.status_code, []).append(item.delivery.pk)
                if item.delivery.kind == Channel.Kind.DASHBOARD:
                    notices.append(_dashboard_row(item.message, item.delivery, now))
                continue
            Delivery.objects.filter(pk=item.delivery.pk).update(**changes)
            if result == DeliveryAttempt.Outcome.FAILED:
                failed = Outcome.failed(changes["last_error"], item.outcome.status_code)
                _staff_notice_failed(item.delivery, item.message, failed, now)
        for code, pks in sent_by_code.items():
            Delivery.objects.filter(pk__in=pks).update(
                status=Delivery.Status.SENT,
                sent_at=now,
                attempts=F("attempts") + 1,
                last_status_code=code,
                last_error="",
                claim_token=None,
                claimed_until=None,
            )
        DeliveryAttempt.objects.bulk_create(attempts)
        StaffNotification.objects.bulk_create(notices, ignore_conflicts=True)
    return results


def record(
    delivery: Delivery,
    message: Message,
    token: uuid.UUID,
    outcome: Outcome,
    *,
    started_at: datetime,
    duration_ms: int,
) -> str:
    """record_many for one row."""
    return record_many(token, [Sent(delivery, message, outcome, started_at, duration_ms)])[0]


WRITE_EVERY_SECONDS = 0.05


class AnswerWriter:
    """Records provider answers while the sender goes on sending.

    A thread of its own (with its own database connection) writes the answers as they arrive,
    at most one transaction per WRITE_EVERY_SECONDS: the sender never waits for the database,
    and a mail the server accepted stays unrecorded for at most that and one write, also while
    the sender is stuck waiting on a slow server. So a worker killed while it waits resends
    nothing; only a kill in those few milliseconds after the server's acceptance resends those
    mails, once their claim expires. (Answers used to be written by the sender every 50 rows or
    0.5 s, so a worker killed while waiting resent up to 50 mails.)

    Inside a caller's transaction the claimed rows are visible only to the caller's connection,
    so the answers are then written at once, in that transaction.
    """

    def __init__(self, token: uuid.UUID, report: SendReport):
        self.token, self.report = token, report
        self.error: BaseException | None = None
        self._pending: list[Sent] = []
        self._closing = False
        self._wake = threading.Condition()
        self._thread = None
        if not transaction.get_connection().in_atomic_block:
            self._thread = threading.Thread(target=self._run, name="outbox-answers", daemon=True)
            self._thread.start()

    def add(self, item: Sent) -> None:
        if self._thread is None:
            self._write([item])
            return
        with self._wake:
            self._pending.append(item)
            if len(self._pending) == 1:
                self._wake.notify()

    def check(self) -> None:
        """Stop sending when answers cannot be written (the database is gone)."""
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        """Write what is still pending and stop; raises the writer's error, if any."""
        if self._thread is not None:
            with self._wake:
                self._closing = True
                self._wake.notify()
            self._thread.join()
        self.check()

    def _run(self) -> None:
        last_write = float("-inf")
        try:
            while True:
                with self._wake:
                    while not self._pending and not self._closing:
                        self._wake.wait()
                    # Let answers gather for a moment after the previous write: one transaction
                    # per WRITE_EVERY_SECONDS at most, whatever the sending rate.
                    while (
                        not self._closing
                        and (pause := last_write + WRITE_EVERY_SECONDS - time.monotonic()) > 0
                    ):
                        self._wake.wait(pause)
                    items, self._pending = self._pending, []
                last_write = time.monotonic()
                if not items:
                    return
                self._write(items)
        except BaseException as exc:  # reported to the sender by check() and close()
            self.error = exc
        finally:
            connection.close()  # this thread's own connection

    def _write(self, items: list[Sent]) -> None:
        for result in record_many(self.token, items):
            if result == "lost":
                self.report.lost_claims += 1
            else:
                setattr(self.report, result, getattr(self.report, result) + 1)


def send_claimed(token: uuid.UUID, ids: list[int], *, deadline: float) -> SendReport:
    """Send the rows this worker claimed, over one SMTP connection per batch."""
    report = SendReport(batches=1)
    deliveries = list(
        Delivery.objects.filter(pk__in=ids, claim_token=token).select_related("channel").order_by("pk")
    )
    messages = Message.objects.in_bulk({d.message_id for d in deliveries})
    email = EmailSender()
    answers = AnswerWriter(token, report)
    in_flight: Sent | None = None
    untried = 0
    try:
        for index, delivery in enumerate(deliveries):
            if time.monotonic() >= deadline:
                report.released += release(token, [d.pk for d in deliveries[index:]])
                break
            answers.check()
            message = messages[delivery.message_id]
            current = Sent(delivery, message, Outcome.sent(), timezone.now(), 0)
            in_flight, untried = current, index + 1
            started = time.monotonic()
            current.outcome = _send_one(delivery, message, email)
            current.duration_ms = int((time.monotonic() - started) * 1000)
            in_flight = None
            answers.add(current)
    except BaseException as exc:
        # Stopped early (Celery's soft time limit, a lost database). The send in flight counts
        # as an attempt, so a peer that holds every send until the time limit still meets the
        # attempt and age caps; rows never tried go back at once.
        if in_flight is not None:
            took = timezone.now() - in_flight.started_at
            in_flight.outcome = Outcome.retry(f"interrupted before an answer ({type(exc).__name__})")
            in_flight.duration_ms = int(took.total_seconds() * 1000)
            with contextlib.suppress(Exception):
                answers.add(in_flight)
        with contextlib.suppress(Exception):
            release(token, [d.pk for d in deliveries[untried:]])
        raise
    finally:
        email.close()
        # Also after an exception: what the providers accepted gets written.
        answers.close()
    return report


def _send_one(delivery: Delivery, message: Message, email: EmailSender) -> Outcome:
    kind = delivery.kind
    if kind == Channel.Kind.EMAIL:
        return email.send(message, delivery)
    if kind == Channel.Kind.DASHBOARD:
        return Outcome.sent()  # the in-app row is written by record_many(), in the same transaction
    if kind == Channel.Kind.SLACK:
        return send_slack(message, delivery)
    if kind == Channel.Kind.WEBHOOK:
        if delivery.channel is None and delivery.context.get("payload") == "statuspage":
            return send_subscriber_webhook(message, delivery)
        if delivery.channel is None:
            return Outcome.failed("the webhook channel was deleted, so there is no signing secret")
        return send_webhook(message, delivery, delivery.channel.secret)
    if kind in SENDERS:
        return SENDERS[kind](message, delivery)
    return Outcome.failed(f"unknown delivery kind {kind!r}")


def send_loop(
    queryset, *, budget: float | None = None, batch_size: int | None = None, order: str = "pk"
) -> SendReport:
    """Claim and send batches from `queryset` until nothing is due or the time budget is spent."""
    batch_size = batch_size or settings.NOTIFICATIONS_BATCH_SIZE
    started = time.monotonic()
    deadline = _deadline(started, budget)
    report = SendReport()
    while time.monotonic() < deadline:
        token, ids = claim(queryset, limit=batch_size, order=order)
        if not ids:
            break
        report.add(send_claimed(token, ids, deadline=deadline))
    return report


# --- what the send tasks and the sweeper run ------------------------------------------


def message_dispatch(*, message_id: int, size: int | None = None) -> list[tuple[int, int]]:
    """Id ranges covering the message's pending deliveries, `size` rows each: one send task
    per range instead of one Celery message per delivery. Reads ids as a stream."""
    size = size or settings.NOTIFICATIONS_BATCH_SIZE
    ranges: list[tuple[int, int]] = []
    ids = (
        Delivery.objects.filter(message_id=message_id, status=Delivery.Status.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    first = last = None
    count = 0
    for pk in ids.iterator(chunk_size=5000):
        if first is None:
            first = pk
        last, count = pk, count + 1
        if count == size:
            ranges.append((first, last))
            first, count = None, 0
    if first is not None:
        ranges.append((first, last))
    return ranges


def deliveries_send_range(*, first_id: int, last_id: int, budget: float | None = None) -> SendReport:
    """Claim and send the due deliveries with ids in [first_id, last_id]. Running it twice,
    or concurrently, sends each row once: the second run finds nothing to claim."""
    return send_loop(Delivery.objects.filter(pk__gte=first_id, pk__lte=last_id), budget=budget)


def deliveries_send_due(*, budget: float | None = None) -> SendReport:
    """The sweeper: fail what is past its maximum age, then claim and send every due delivery
    (new, retry due, or claim expired)."""
    report = SendReport(failed=fail_overdue(Delivery.objects.all()))
    report.add(send_loop(Delivery.objects.all(), budget=budget, order="next_attempt_at"))
    return report


def fail_overdue(queryset, *, now: datetime | None = None) -> int:
    """Fail the due rows of `queryset` that are past give_up_at, which claims never take, and
    tell staff as for any permanent failure. Returns how many failed."""
    now = now or timezone.now()
    failed = 0
    while True:
        with transaction.atomic():
            ids = list(
                queryset.overdue(now)
                .select_for_update(skip_locked=True)
                .order_by("next_attempt_at")
                .values_list("pk", flat=True)[: settings.NOTIFICATIONS_BATCH_SIZE]
            )
            rows = Delivery.objects.filter(pk__in=ids).select_related("message", "channel")
            for delivery in rows:
                error = f"gave up after {delivery.attempts} attempts, past its maximum age"
                if delivery.last_error:
                    error += f": {delivery.last_error}"
                Delivery.objects.filter(pk=delivery.pk).update(
                    status=Delivery.Status.FAILED,
                    last_error=error[:2000],
                    claim_token=None,
                    claimed_until=None,
                )
                _staff_notice_failed(delivery, delivery.message, Outcome.failed(error), now)
        failed += len(ids)
        if len(ids) < settings.NOTIFICATIONS_BATCH_SIZE:
            return failed
