"""A subscribe request does the same work for a subscribed and an unknown address, so its
timing does not tell which one it was (not a timing test: the statements are compared)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Message
from subscribers.models import SubscriberStatus
from tests.subscribers.factories import SubscriberFactory

pytestmark = pytest.mark.django_db
TABLE = re.compile(r'(?:INTO|FROM|UPDATE) "(\w+)"')


def _shape(sql: str) -> tuple[str, str]:
    """The statement's verb and first table, without values or savepoint names."""
    table = TABLE.search(sql)
    return sql.split()[0], table.group(1) if table else ""


def _subscribe(client, address: str, callbacks) -> tuple[list, int]:
    with callbacks() as queued, CaptureQueriesContext(connection) as queries:
        response = client.post("/api/status/subscribe", {"email": address}, content_type="application/json")
    assert response.status_code == 202
    return [_shape(q["sql"]) for q in queries.captured_queries], len(queued)


def test_it_runs_the_same_statements_for_a_subscribed_and_an_unknown_address(
    client, django_capture_on_commit_callbacks
):
    SubscriberFactory(email="known@example.com", status=SubscriberStatus.CONFIRMED)
    known = _subscribe(client, "known@example.com", django_capture_on_commit_callbacks)
    unknown = _subscribe(client, "new@example.com", django_capture_on_commit_callbacks)
    assert known == unknown
    assert ("INSERT", "statuspage_subscriber") in known[0]


def test_it_queues_one_mail_with_one_delivery_on_both_paths(client, django_capture_on_commit_callbacks):
    SubscriberFactory(email="known@example.com", status=SubscriberStatus.CONFIRMED)
    _subscribe(client, "known@example.com", django_capture_on_commit_callbacks)
    _subscribe(client, "new@example.com", django_capture_on_commit_callbacks)
    mails = {m.kind: m.deliveries.count() for m in Message.objects.all()}
    assert mails == {"subscriber.already": 1, "subscriber.confirm": 1}
