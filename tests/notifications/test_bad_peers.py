"""Receivers that answer badly, on loopback: a body that never ends, headers and bodies
trickled a byte at a time, an SMTP server that trickles its replies. Each costs one attempt of
bounded time and memory, recorded and classified, and the caps on attempts and age apply."""

import signal
import time
import uuid
from datetime import timedelta

import psutil
import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.management import call_command
from django.utils import timezone

from notifications.models import Delivery, DeliveryAttempt, StaffNotification
from notifications.senders import MAX_ANSWER_BYTES
from notifications.services import deliveries_send_due, message_enqueue
from tests.conftest import run_manage
from tests.notifications.factories import SlackChannelFactory, WebhookChannelFactory
from tests.notifications.servers import (
    BadPeer,
    endless_answer,
    trickled_body,
    trickled_headers,
    trickling_smtp,
)

pytestmark = pytest.mark.django_db

DEADLINE = 1.0
SLACK = 0.5  # what a loaded machine may add to a deadline
TRICKLE = 0.1  # seconds between two bytes: well inside the per-read timeout


@pytest.fixture
def peers(settings):
    settings.NOTIFICATIONS_HTTP_TIMEOUT = 0.5
    settings.NOTIFICATIONS_SEND_DEADLINE = DEADLINE
    started: list[BadPeer] = []

    def start(answer) -> BadPeer:
        peer = BadPeer(answer)
        started.append(peer)
        return peer

    yield start
    for peer in started:
        peer.stop()


@pytest.fixture
def smtp_peer(peers, settings):
    def start(stage: str) -> BadPeer:
        peer = peers(trickling_smtp(stage, TRICKLE))
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", peer.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_TIMEOUT = 0.5
        return peer

    return start


def notify(number: int = 1, **overrides):
    return message_enqueue(
        kind="alert.firing",
        subject="Disk almost full",
        severity="critical",
        dedup_key=f"alert:{number}",
        **overrides,
    )


def timed_sweep() -> float:
    started = time.monotonic()
    deliveries_send_due()
    return time.monotonic() - started


def assert_one_retry_for_the_deadline(delivery: Delivery) -> None:
    delivery.refresh_from_db()
    [attempt] = delivery.attempt_log.all()
    assert delivery.status == Delivery.Status.PENDING and delivery.attempts == 1
    assert attempt.outcome == DeliveryAttempt.Outcome.RETRY
    assert "within the send deadline of 1 s" in attempt.error
    assert attempt.duration_ms <= (DEADLINE + SLACK) * 1000


def test_it_reads_only_the_start_of_an_answer_that_never_ends(peers):
    peer = peers(endless_answer(500))
    WebhookChannelFactory(url=peer.url())
    notify()
    rss_before = psutil.Process().memory_info().rss
    took = timed_sweep()
    grown = psutil.Process().memory_info().rss - rss_before
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.PENDING and delivery.last_status_code == 500
    assert delivery.last_error.startswith("HTTP 500: xxx") and took < DEADLINE
    # What left the peer is our cap plus what the loopback's socket buffers held, not 256 MiB.
    assert peer.bytes_sent < 32 * 1024 * 1024 and grown < 32 * 1024 * 1024
    assert MAX_ANSWER_BYTES <= 16 * 1024


def test_it_does_not_read_the_body_of_a_success(peers):
    peer = peers(endless_answer(200))
    SlackChannelFactory(url=peer.url())
    notify()
    assert timed_sweep() < DEADLINE
    assert Delivery.objects.get().status == Delivery.Status.SENT
    assert peer.bytes_sent < 32 * 1024 * 1024


def test_it_ends_a_send_whose_headers_trickle_at_the_deadline(peers):
    peer = peers(trickled_headers(TRICKLE))
    WebhookChannelFactory(url=peer.url())
    notify()
    assert timed_sweep() < DEADLINE + SLACK
    assert_one_retry_for_the_deadline(Delivery.objects.get())


def test_it_ends_a_send_whose_error_body_trickles_at_the_deadline(peers):
    peer = peers(trickled_body(503, TRICKLE))
    SlackChannelFactory(url=peer.url())
    notify()
    assert timed_sweep() < DEADLINE + SLACK
    delivery = Delivery.objects.get()
    # The status came in time, so it is the answer.
    assert delivery.status == Delivery.Status.PENDING and delivery.last_status_code == 503
    assert delivery.last_error.startswith("HTTP 503")


def test_it_gives_up_on_a_trickling_receiver_after_the_attempt_cap(peers, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2
    peer = peers(trickled_headers(TRICKLE))
    WebhookChannelFactory(url=peer.url())
    notify()
    deliveries_send_due()
    Delivery.objects.update(next_attempt_at=timezone.now())  # the retry is due
    deliveries_send_due()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED and delivery.attempts == 2
    assert delivery.last_error.startswith("gave up after 2 attempts: no complete answer")
    assert StaffNotification.objects.filter(dedup_key__startswith="failed:").count() == 1


def test_it_fails_a_row_past_its_maximum_age_instead_of_claiming_it(peers):
    """The state trickling peers used to leave behind: pending, no attempt, claim expired."""
    peer = peers(trickled_headers(TRICKLE))
    WebhookChannelFactory(url=peer.url())
    notify()
    past = timezone.now() - timedelta(minutes=1)
    Delivery.objects.update(claim_token=uuid.uuid4(), claimed_until=past, give_up_at=past)
    assert timed_sweep() < SLACK
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED and delivery.claim_token is None
    assert delivery.last_error == "gave up after 0 attempts, past its maximum age"
    assert peer.connections == 0
    assert StaffNotification.objects.filter(dedup_key__startswith="failed:").count() == 1


def test_it_ends_the_command_within_the_task_deadline(peers, settings):
    settings.CELERY_TASK_SOFT_TIME_LIMIT = 4
    settings.NOTIFICATIONS_SEND_DEADLINE = 0.5
    peer = peers(trickled_headers(TRICKLE))
    WebhookChannelFactory(url=peer.url())
    for number in range(20):
        notify(number)
    started = time.monotonic()
    call_command("send_due_deliveries", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert time.monotonic() - started < settings.CELERY_TASK_SOFT_TIME_LIMIT
    tried = Delivery.objects.filter(attempts=1)
    assert 1 <= tried.count() < 20 and not Delivery.objects.filter(claim_token__isnull=False).exists()
    assert all("send deadline" in d.last_error for d in tried)


def test_it_ends_an_smtp_greeting_that_trickles_once_per_batch(smtp_peer):
    peer = smtp_peer("greeting")
    notify(channels=[], emails=["a@example.com", "b@example.com", "c@example.com"])
    assert timed_sweep() < DEADLINE + SLACK
    assert peer.connections == 1  # a bad server costs the batch one deadline, not one per row
    for delivery in Delivery.objects.all():
        delivery.refresh_from_db()
        assert delivery.attempts == 1 and "SMTP server: no complete answer" in delivery.last_error


def test_it_ends_an_smtp_reply_that_trickles_after_the_message(smtp_peer):
    smtp_peer("data")
    notify(channels=[], emails=["a@example.com"])
    assert timed_sweep() < DEADLINE + SLACK
    assert_one_retry_for_the_deadline(Delivery.objects.get())


def test_it_bounds_closing_an_smtp_connection_whose_quit_trickles(smtp_peer):
    smtp_peer("quit")
    notify(channels=[], emails=["a@example.com"])
    assert timed_sweep() < DEADLINE + SLACK
    assert Delivery.objects.get().status == Delivery.Status.SENT


def test_it_counts_an_smtp_send_stopped_by_the_task_time_limit(smtp_peer, settings):
    settings.NOTIFICATIONS_SEND_DEADLINE = 10  # the time limit comes first

    def soft_time_limit(signum, frame):
        raise SoftTimeLimitExceeded()  # what Celery's soft limit does in the worker

    smtp_peer("greeting")
    notify(channels=[], emails=["a@example.com", "b@example.com"])
    previous = signal.signal(signal.SIGALRM, soft_time_limit)
    signal.setitimer(signal.ITIMER_REAL, 0.5)
    try:
        with pytest.raises(SoftTimeLimitExceeded):
            deliveries_send_due()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    first, second = Delivery.objects.order_by("pk")
    assert first.attempts == 1 and first.last_error == "interrupted before an answer (SoftTimeLimitExceeded)"
    assert second.attempts == 0 and second.claim_token is None


def test_it_refuses_a_send_deadline_that_the_claim_would_not_cover():
    result = run_manage(
        "check", env={"NOTIFICATIONS_CLAIM_SECONDS": "30", "NOTIFICATIONS_SEND_DEADLINE": "29"}
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "NOTIFICATIONS_SEND_DEADLINE must be shorter than NOTIFICATIONS_CLAIM_SECONDS" in result.stderr
