import hashlib
import hmac
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from notifications.models import Delivery, DeliveryAttempt, StaffNotification
from notifications.senders import parse_retry_after
from notifications.services import deliveries_send_due, message_enqueue
from tests.notifications.factories import SlackChannelFactory, WebhookChannelFactory

pytestmark = pytest.mark.django_db


def notify(**overrides):
    arguments = {
        "kind": "alert.firing",
        "subject": "Disk almost full on db-1",
        "context": {"body": "Disk at 93 % <used>"},
        "severity": "critical",
        "dedup_key": "alert:7:fired",
        **overrides,
    }
    return message_enqueue(**arguments)


def webhook_to(receiver, path):
    channel = WebhookChannelFactory(url=receiver.url(path))
    notify()
    deliveries_send_due()
    return channel, Delivery.objects.get()


def test_it_posts_block_kit_to_slack(http_receiver):
    SlackChannelFactory(url=http_receiver.url("/ok"))
    notify()
    deliveries_send_due()
    [request] = http_receiver.requests
    blocks = request["json"]["blocks"]
    assert [b["type"] for b in blocks] == ["header", "section", "context"]
    assert blocks[0]["text"]["text"] == "Disk almost full on db-1"
    assert "&lt;used&gt;" in blocks[1]["text"]["text"]  # Slack mrkdwn escaping
    assert Delivery.objects.get().status == Delivery.Status.SENT


def test_it_signs_webhooks_over_timestamp_and_body(http_receiver):
    channel, delivery = webhook_to(http_receiver, "/ok")
    [request] = http_receiver.requests
    headers = request["headers"]
    signed = headers["X-Vigil-Timestamp"].encode() + b"." + request["body"]
    expected = hmac.new(channel.secret.encode(), signed, hashlib.sha256).hexdigest()
    assert headers["X-Vigil-Signature"] == f"sha256={expected}"
    assert headers["X-Vigil-Delivery"] == delivery.idempotency_key == request["json"]["delivery"]
    assert request["json"]["message"]["subject"] == "Disk almost full on db-1"
    assert delivery.status == Delivery.Status.SENT and delivery.last_status_code == 200


def test_it_retries_a_5xx_with_backoff(http_receiver):
    _, delivery = webhook_to(http_receiver, "/fail")
    assert delivery.status == Delivery.Status.PENDING and delivery.last_status_code == 500
    delay = (delivery.next_attempt_at - delivery.attempt_log.get().started_at).total_seconds()
    assert 14 <= delay <= 31  # base 30 s, jittered to 50-100 %


def test_it_honours_retry_after_on_429(http_receiver):
    _, delivery = webhook_to(http_receiver, "/busy")
    attempt = delivery.attempt_log.get()
    assert attempt.outcome == DeliveryAttempt.Outcome.RETRY and attempt.status_code == 429
    delay = (delivery.next_attempt_at - attempt.started_at).total_seconds()
    assert 119 <= delay <= 122


def test_it_fails_a_404_at_once_and_tells_staff(http_receiver):
    _, delivery = webhook_to(http_receiver, "/gone")
    assert delivery.status == Delivery.Status.FAILED and delivery.attempts == 1
    assert StaffNotification.objects.filter(dedup_key__startswith="failed:").count() == 1


def test_it_retries_a_receiver_that_answers_too_slowly(http_receiver):
    _, delivery = webhook_to(http_receiver, "/slow")
    assert delivery.status == Delivery.Status.PENDING
    assert "timed out after 0.5 s" in delivery.last_error
    assert delivery.attempt_log.get().duration_ms >= 400


def test_it_retries_a_refused_connection(closed_port):
    WebhookChannelFactory(url=f"http://127.0.0.1:{closed_port}/hook")
    notify()
    deliveries_send_due()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.PENDING and "connection error" in delivery.last_error


def test_it_gives_up_after_the_attempt_cap(http_receiver, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    _, delivery = webhook_to(http_receiver, "/fail")
    for hours in (1, 2):
        with time_machine.travel(timezone.now() + timedelta(hours=hours)):
            deliveries_send_due()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED and delivery.attempts == 3
    assert "gave up after 3 attempts" in delivery.last_error
    assert len(http_receiver.requests) == 3


def test_it_gives_up_when_the_next_retry_would_pass_the_age_cap(http_receiver, settings):
    settings.NOTIFICATIONS_MAX_AGE_HOURS = 1
    _, delivery = webhook_to(http_receiver, "/busy")  # Retry-After 120 s: still inside the hour
    with time_machine.travel(timezone.now() + timedelta(minutes=59)):
        deliveries_send_due()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED and delivery.attempts == 2


def test_it_does_not_touch_a_retry_before_it_is_due(http_receiver):
    webhook_to(http_receiver, "/fail")
    deliveries_send_due()
    assert len(http_receiver.requests) == 1


def test_it_parses_both_forms_of_retry_after():
    assert parse_retry_after("30") == 30
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470) == 10
    assert parse_retry_after("soon") is None


def test_it_escapes_the_subject_in_the_slack_text_fallback(http_receiver):
    SlackChannelFactory(url=http_receiver.url("/ok"))
    notify(subject="<!channel> db-1 down, see <https://evil.example|the runbook> & act")
    deliveries_send_due()
    [request] = http_receiver.requests
    assert request["json"]["text"] == (
        "[critical] &lt;!channel&gt; db-1 down, see &lt;https://evil.example|the runbook&gt; &amp; act"
    )
