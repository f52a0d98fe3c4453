"""Races on PostgreSQL for URL subscribers: two senders at once, one URL subscribed twice at once."""

import pytest
from django.db import connection

from notifications.models import Delivery
from notifications.services import deliveries_send_due
from statuspage import services
from statuspage.models import ComponentStatus
from subscribers.models import Subscriber
from subscribers.services import subscriber_subscribe_url
from tests.statuspage.factories import ComponentFactory
from tests.subscribers.factories import SubscriberFactory
from tests.subscribers.test_concurrency import run_at_once

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks and concurrent transactions need PostgreSQL"
    ),
]


def test_it_posts_each_webhook_subscriber_once_when_two_senders_run_at_once(receiver, settings):
    settings.NOTIFICATIONS_BATCH_SIZE = 5  # many small claims, so both senders take some
    for n in range(30):
        SubscriberFactory(kind="webhook", email="", url=receiver.url(f"/hook/{n}"), secret="s")
    services.incident_create(
        title="Down", message="x", components={ComponentFactory(): ComponentStatus.MAJOR_OUTAGE}
    )
    run_at_once(deliveries_send_due, count=2)
    # Each subscriber gets the incident and the component update it made: 60 deliveries, each once.
    ids = [r["headers"]["X-Vigil-Delivery"] for r in receiver.requests]
    assert len(ids) == 60 and len(set(ids)) == 60
    assert Delivery.objects.filter(status=Delivery.Status.SENT).count() == 60


def test_it_keeps_one_row_when_the_same_url_subscribes_concurrently(receiver):
    run_at_once(lambda: subscriber_subscribe_url(kind="webhook", url=receiver.url()), count=3)
    assert Subscriber.objects.count() == 1
