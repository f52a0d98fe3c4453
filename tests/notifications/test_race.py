"""Concurrent senders on PostgreSQL: FOR UPDATE SKIP LOCKED + claim tokens mean each row is
sent exactly once however many workers run at once."""

import threading
from collections import Counter

import pytest
from django.db import connection, connections, transaction

from notifications.models import Delivery, DeliveryAttempt
from notifications.services import deliveries_send_due, deliveries_send_range, message_enqueue
from tests.notifications.provider_servers import page
from tests.notifications.twilio_fakes import twilio_channel

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks (SKIP LOCKED) need PostgreSQL; SQLite serialises writers instead",
    ),
]


def run_concurrently(target, workers: int = 4) -> list:
    results, barrier = [], threading.Barrier(workers)

    def worker():
        barrier.wait()
        try:
            results.append(target())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def fan_out(count: int):
    return message_enqueue(
        kind="incident.update",
        subject="Major outage",
        severity="critical",
        dedup_key="race:1",
        channels=[],
        emails=(f"r{i}@example.com" for i in range(count)),
    )


def test_it_sends_each_row_once_with_four_concurrent_sweepers(smtp, settings):
    settings.NOTIFICATIONS_BATCH_SIZE = 25
    fan_out(400)
    reports = run_concurrently(deliveries_send_due)
    received = Counter(smtp.recipients())
    assert len(received) == 400 and set(received.values()) == {1}
    assert sum(r.sent for r in reports) == 400
    assert sum(1 for r in reports if r.sent) >= 2  # the work really was shared
    assert DeliveryAttempt.objects.count() == 400
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


def test_it_sends_each_row_once_when_the_same_range_task_runs_four_times_at_once(smtp, settings):
    settings.NOTIFICATIONS_BATCH_SIZE = 20
    fan_out(200)
    first = Delivery.objects.order_by("pk").first().pk
    last = Delivery.objects.order_by("-pk").first().pk
    run_concurrently(lambda: deliveries_send_range(first_id=first, last_id=last))
    assert Counter(smtp.recipients()) == Counter(f"r{i}@example.com" for i in range(200))


def test_it_returns_one_message_to_two_producers_racing_on_a_dedup_key():
    def producer():
        with transaction.atomic():  # as a producer would: inside its own transaction
            return fan_out(10)

    results = run_concurrently(producer, 2)
    assert len({m.pk for m in results}) == 1
    assert Delivery.objects.count() == 10


def test_it_sends_each_sms_once_with_two_workers_on_the_same_rows(twilio, settings):
    numbers = [f"+1415555{n:04d}" for n in range(30)]
    twilio_channel(recipients="\n".join(numbers))
    page()
    first = Delivery.objects.order_by("pk").first().pk
    last = Delivery.objects.order_by("-pk").first().pk
    run_concurrently(lambda: deliveries_send_range(first_id=first, last_id=last), 2)
    assert Counter(r["form"]["To"] for r in twilio.requests) == Counter(numbers)
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
