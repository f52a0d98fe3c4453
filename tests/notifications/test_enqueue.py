import math

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from notifications.models import Channel, Delivery, Message
from notifications.services import EmailRecipient, NotificationError, message_enqueue
from tests.notifications.factories import (
    ChannelFactory,
    DashboardChannelFactory,
    SlackChannelFactory,
    WebhookChannelFactory,
)

pytestmark = pytest.mark.django_db


def enqueue(**overrides) -> Message:
    arguments = {
        "kind": "alert.firing",
        "subject": "CPU high on web-1",
        "template": "",
        "context": {"body": "CPU at 97 %"},
        "severity": "high",
        "dedup_key": "alert:1:fired",
        **overrides,
    }
    return message_enqueue(**arguments)


def test_it_writes_one_delivery_per_recipient_of_the_admitting_channels():
    ChannelFactory(recipients="a@example.com, b@example.com")
    SlackChannelFactory()
    WebhookChannelFactory()
    DashboardChannelFactory()
    ChannelFactory(recipients="ceo@example.com", min_severity="critical")
    ChannelFactory(recipients="off@example.com", enabled=False)
    message = enqueue()
    kinds = sorted(message.deliveries.values_list("kind", flat=True))
    assert kinds == ["dashboard", "email", "email", "slack", "webhook"]


def test_it_returns_the_existing_message_for_a_repeated_dedup_key():
    ChannelFactory()
    first = enqueue()
    second = enqueue(subject="something else")
    assert second.pk == first.pk and first.created_now and not second.created_now
    assert Message.objects.count() == 1 and Delivery.objects.count() == 1


def test_it_writes_one_delivery_for_an_address_given_twice():
    ChannelFactory(recipients="Ann@Example.com")
    message = enqueue(emails=["ann@example.com", ("ann@example.com", {"x": 1}), "bob@example.com"])
    assert message.deliveries.count() == 2


def test_it_keeps_the_per_recipient_context():
    message = enqueue(
        channels=[], emails=[EmailRecipient("s@example.com", {"unsubscribe_url": "https://u/1"})]
    )
    assert message.deliveries.get().context == {"unsubscribe_url": "https://u/1"}


def test_it_only_uses_the_channels_listed():
    wanted, _ = ChannelFactory(recipients="w@example.com"), ChannelFactory(recipients="x@example.com")
    message = enqueue(channels=[wanted])
    assert list(message.deliveries.values_list("recipient", flat=True)) == ["w@example.com"]


def test_it_writes_nothing_when_the_producer_rolls_back():
    ChannelFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue()
        raise RuntimeError("producer failed after enqueueing")
    assert not Message.objects.exists() and not Delivery.objects.exists()


def test_it_dispatches_only_after_commit(django_capture_on_commit_callbacks):
    ChannelFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        enqueue()
    assert len(callbacks) == 1


def test_it_rejects_an_unknown_severity():
    with pytest.raises(NotificationError, match="severity"):
        enqueue(severity="urgent")


def test_it_rejects_a_context_that_is_not_json():
    with pytest.raises(NotificationError, match="JSON"):
        enqueue(context={"when": object()})


def test_it_writes_a_large_fan_out_in_a_few_batched_inserts():
    recipients = (
        EmailRecipient(f"s{i}@example.com", {"unsubscribe_url": f"https://u/{i}"}) for i in range(5000)
    )
    with CaptureQueriesContext(connection) as queries:
        message = enqueue(channels=[], emails=recipients)
    inserts = [q for q in queries.captured_queries if 'INTO "notifications_delivery"' in q["sql"]]
    assert message.deliveries.count() == 5000
    if connection.vendor == "postgresql":
        assert len(inserts) == 1  # COPY into a staging table, then one INSERT ... SELECT
    else:  # bulk_create, as few statements as SQLite's variable limit allows
        fields = [f for f in Delivery._meta.concrete_fields if not f.primary_key]
        per_statement = connection.ops.bulk_batch_size(fields, [None] * 5000)
        assert len(inserts) == math.ceil(5000 / per_statement)


def test_it_admits_by_minimum_severity():
    channel = Channel(kind=Channel.Kind.EMAIL, min_severity="high")
    assert channel.admits("critical") and channel.admits("high")
    assert not channel.admits("medium")


@pytest.mark.django_db(transaction=True)
def test_it_writes_nothing_when_the_recipient_stream_breaks_outside_a_transaction():
    def recipients():
        yield "a@example.com"
        raise RuntimeError("subscriber query failed")

    with pytest.raises(RuntimeError):
        enqueue(channels=[], emails=recipients())
    assert not Message.objects.exists() and not Delivery.objects.exists()
