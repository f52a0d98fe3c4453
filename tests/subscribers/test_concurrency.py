"""Races on PostgreSQL: the same address subscribed twice at once, reminders run twice at once."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from notifications.models import Message
from statuspage import services
from statuspage.announce import maintenance_reminders_send
from subscribers.models import Subscriber
from subscribers.services import subscriber_subscribe
from tests.subscribers.factories import SubscriberFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks and concurrent transactions need PostgreSQL"
    ),
]


def run_at_once(target, count=4):
    barrier = threading.Barrier(count)
    errors = []

    def worker():
        try:
            barrier.wait()
            target()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors


def test_it_keeps_one_row_when_the_same_address_subscribes_concurrently():
    run_at_once(lambda: subscriber_subscribe(email="ann@example.com"))
    assert Subscriber.objects.count() == 1


def test_it_sends_one_reminder_when_the_job_runs_twice_at_once(settings):
    settings.SUBSCRIBERS_REMINDER_MINUTES = 60
    SubscriberFactory.create_batch(3)
    start = timezone.now() + timedelta(minutes=30)
    maintenance = services.maintenance_schedule(
        title="Swap", scheduled_for=start, scheduled_until=start + timedelta(hours=1)
    )
    maintenance.created_at -= timedelta(hours=2)
    maintenance.save()
    run_at_once(maintenance_reminders_send)
    reminder = Message.objects.get(kind="maintenance.reminder")
    assert reminder.deliveries.count() == 3
