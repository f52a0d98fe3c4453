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


def test_it_keeps_the_producer_working_when_the_broker_is_down(
    closed_port, django_capture_on_commit_callbacks, caplog
):
    previous = celery_app.conf.broker_url
    celery_app.conf.broker_url = f"redis://127.0.0.1:{closed_port}/0"
    celery_app.pool.force_close_all()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            message = fan_out(2)
    finally:
        celery_app.conf.broker_url = previous
        celery_app.pool.force_close_all()
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
