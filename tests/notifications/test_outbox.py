import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from config.celery import app as celery_app
from notifications import outbox
from notifications.models import Delivery, DeliveryAttempt, StaffNotification
from notifications.senders import Outcome
from notifications.services import (
    deliveries_send_due,
    deliveries_send_range,
    message_dispatch,
    message_enqueue,
)
from notifications.tasks import send_delivery_range
from tests.notifications.factories import ChannelFactory, DashboardChannelFactory

pytestmark = pytest.mark.django_db


def fan_out(count: int, dedup_key: str = "incident:1"):
    return message_enqueue(
        kind="incident.update",
        subject="Partial outage",
        severity="high",
        dedup_key=dedup_key,
        channels=[],
        emails=(f"s{i}@example.com" for i in range(count)),
    )


def test_it_sends_each_row_once_when_the_send_task_is_duplicated(smtp):
    fan_out(30)
    first, last = Delivery.objects.order_by("pk")[0].pk, Delivery.objects.order_by("-pk")[0].pk
    send_delivery_range(first, last)
    send_delivery_range(first, last)  # the same Celery message delivered twice
    assert sorted(smtp.recipients()) == sorted(f"s{i}@example.com" for i in range(30))
    assert DeliveryAttempt.objects.count() == 30


def test_it_resends_a_killed_workers_rows_only_after_the_claim_expires(smtp, settings):
    fan_out(5)
    token, ids = outbox.claim(Delivery.objects.all(), limit=100)  # the worker then dies
    assert len(ids) == 5
    deliveries_send_due()
    assert smtp.messages == []  # the claim is still live: nobody else may send
    later = timezone.now() + timedelta(seconds=settings.NOTIFICATIONS_CLAIM_SECONDS + 1)
    with time_machine.travel(later):
        deliveries_send_due()
    assert len(smtp.recipients()) == 5
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


def test_it_does_not_let_a_stale_claim_holder_record_over_the_new_one(smtp, settings):
    fan_out(1)
    old_token, [pk] = outbox.claim(Delivery.objects.all(), limit=1)
    later = timezone.now() + timedelta(seconds=settings.NOTIFICATIONS_CLAIM_SECONDS + 1)
    with time_machine.travel(later):
        new_token, _ = outbox.claim(Delivery.objects.all(), limit=1)
    delivery = Delivery.objects.get(pk=pk)
    result = outbox.record(
        delivery, delivery.message, old_token, Outcome.sent(), started_at=timezone.now(), duration_ms=1
    )
    assert result == "lost"
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PENDING and delivery.claim_token == new_token


def test_it_recovers_a_delivery_whose_dispatch_was_lost(smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # the Celery message never arrives
        fan_out(3)
    out = io.StringIO()
    call_command("send_due_deliveries", stdout=out)
    assert "3 sent" in out.getvalue()
    assert len(smtp.recipients()) == 3


def test_it_sends_after_commit_through_the_queue(smtp, eager_celery, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        fan_out(7)
    assert len(smtp.recipients()) == 7


def test_it_splits_a_message_into_id_ranges():
    message = fan_out(1050)
    ranges = message_dispatch(message_id=message.pk, size=500)
    assert len(ranges) == 3
    assert sum(Delivery.objects.filter(pk__gte=a, pk__lte=b).count() for a, b in ranges) == 1050


def _fresh_broker_pools() -> None:
    """Drop every cached broker connection, so the next publish connects to the current URL
    (kombu keeps its pools globally, and Celery caches them on the app)."""
    from kombu import pools

    pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def test_it_keeps_the_producer_working_when_the_broker_is_down(
    closed_port, django_capture_on_commit_callbacks, caplog
):
    # Producers publish through the write URL (it defaults to broker_url when unset).
    previous = celery_app.conf.broker_write_url
    celery_app.conf.broker_write_url = f"redis://127.0.0.1:{closed_port}/0"
    _fresh_broker_pools()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            message = fan_out(2)
    finally:
        celery_app.conf.broker_write_url = previous
        _fresh_broker_pools()
    assert message.deliveries.filter(status="pending").count() == 2
    assert "broker unavailable" in caplog.text  # logged; the sweeper sends it later


def test_it_releases_unsent_rows_when_the_time_budget_runs_out(smtp):
    fan_out(3)
    token, ids = outbox.claim(Delivery.objects.all(), limit=10)
    report = outbox.send_claimed(token, ids, deadline=0)
    assert report.released == 3
    assert not Delivery.objects.filter(claim_token__isnull=False).exists()
    deliveries_send_due()
    assert len(smtp.recipients()) == 3


def test_it_writes_one_dashboard_notification_for_all_staff():
    DashboardChannelFactory()
    message_enqueue(kind="alert.firing", subject="Queue backlog", severity="high", dedup_key="a:1")
    deliveries_send_due()
    deliveries_send_due()
    notification = StaffNotification.objects.get()
    assert notification.title == "Queue backlog" and notification.delivery.status == "sent"


def test_it_sends_a_range_only_once_even_if_it_covers_other_messages(smtp):
    fan_out(2, "m:1")
    fan_out(2, "m:2")
    ids = list(Delivery.objects.values_list("pk", flat=True))
    report = deliveries_send_range(first_id=min(ids), last_id=max(ids))
    assert report.sent == 4 and deliveries_send_due().sent == 0


def test_it_jitters_backoff_within_the_cap(settings):
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS, settings.NOTIFICATIONS_RETRY_MAX_SECONDS = 30, 600
    assert outbox.backoff_seconds(1, rng=lambda a, b: b) == 30
    assert outbox.backoff_seconds(3, rng=lambda a, b: a) == 60
    assert outbox.backoff_seconds(10, rng=lambda a, b: b) == 600


def test_it_keeps_email_channel_rows_tied_to_their_channel(smtp):
    channel = ChannelFactory(recipients="oncall@example.com")
    message_enqueue(kind="alert.firing", subject="x", severity="low", dedup_key="a:2")
    deliveries_send_due()
    assert Delivery.objects.get().channel == channel and smtp.recipients() == ["oncall@example.com"]


def test_it_schedules_the_sweeper_on_beat_as_a_task_and_a_command():
    from celery import current_app
    from django.core.management import get_commands

    from config.celery import BEAT_JOBS

    task, interval_setting = BEAT_JOBS["send_due_deliveries"]
    assert interval_setting == "NOTIFICATIONS_SWEEP_INTERVAL"
    assert task in current_app.tasks
    assert get_commands()["send_due_deliveries"] == "notifications"


def test_it_leaves_a_row_alone_on_retry_now_while_a_live_worker_holds_it():
    from notifications.services import deliveries_retry_now

    fan_out(2)
    token, [held] = outbox.claim(Delivery.objects.all(), limit=1)
    Delivery.objects.exclude(pk=held).update(status="failed")
    assert deliveries_retry_now(deliveries=Delivery.objects.all()) == 1
    assert Delivery.objects.get(pk=held).claim_token == token


def test_it_resends_once_when_a_worker_dies_between_smtp_acceptance_and_the_write(smtp, settings):
    """The documented at-least-once window: never lost, at worst sent twice."""
    from notifications.senders import EmailSender

    fan_out(1)
    token, [pk] = outbox.claim(Delivery.objects.all(), limit=1)
    delivery = Delivery.objects.get(pk=pk)
    sender = EmailSender()
    assert sender.send(delivery.message, delivery).result == "sent"  # then the worker dies
    sender.close()
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.NOTIFICATIONS_CLAIM_SECONDS + 1)):
        deliveries_send_due()
    assert smtp.recipients() == ["s0@example.com", "s0@example.com"]
    assert Delivery.objects.get().status == "sent"


def test_it_counts_the_send_in_flight_and_releases_the_rest_when_stopped_by_the_time_limit(smtp, monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    fan_out(3)
    real_send, calls = outbox._send_one, []

    def send_then_time_out(*args):
        calls.append(1)
        if len(calls) == 2:
            raise SoftTimeLimitExceeded()
        return real_send(*args)

    monkeypatch.setattr(outbox, "_send_one", send_then_time_out)
    token, ids = outbox.claim(Delivery.objects.all(), limit=10)
    with pytest.raises(SoftTimeLimitExceeded):
        outbox.send_claimed(token, ids, deadline=float("inf"))
    first, in_flight, untried = Delivery.objects.order_by("pk")
    assert first.status == "sent"
    # An attempt, classified: the attempt and age caps apply to a peer that outlasts the task.
    assert in_flight.attempts == 1 and in_flight.claim_token is None and in_flight.status == "pending"
    assert in_flight.attempt_log.get().error == "interrupted before an answer (SoftTimeLimitExceeded)"
    assert untried.claim_token is None and untried.status == "pending" and untried.attempts == 0


def test_a_killed_workers_claim_counts_as_an_attempt_and_the_limit_still_applies(smtp, settings):
    fan_out(2)
    Delivery.objects.filter(recipient="s1@example.com").update(attempt_limit=1)
    outbox.claim(Delivery.objects.all(), limit=100)  # the worker is killed mid-send (SIGKILL, OOM)
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.NOTIFICATIONS_CLAIM_SECONDS + 1)):
        deliveries_send_due()
    survivor, limited = (
        Delivery.objects.get(recipient="s0@example.com"),
        Delivery.objects.get(recipient="s1@example.com"),
    )
    assert (survivor.status, survivor.attempts) == ("sent", 2)
    assert survivor.attempt_log.filter(outcome="retry", error=outbox.INTERRUPTED).count() == 1
    assert (limited.status, limited.attempts) == (
        "failed",
        1,
    ) and "gave up after 1 attempts" in limited.last_error
    assert smtp.recipients() == ["s0@example.com"]
    assert StaffNotification.objects.exists()
