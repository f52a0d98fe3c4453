"""The whole subscriber journey through a real SMTP server on loopback, in both modes.

Mail is sent by the outbox's sweeper (deliveries_send_due), as the send_due_deliveries beat job
would; the after-commit dispatch through Celery is covered by tests/notifications."""

import re

import pytest

from notifications.services import deliveries_send_due
from statuspage import services
from statuspage.models import ComponentStatus, IncidentStatus
from subscribers.models import Subscriber, SubscriberStatus
from tests.statuspage.factories import ComponentFactory
from tests.subscribers.conftest import link_in

pytestmark = pytest.mark.django_db


def mails_to(smtp, address):
    return [m for m in smtp.messages if m["To"] == address]


def test_it_runs_subscribe_confirm_notify_and_one_click_unsubscribe_end_to_end(client, smtp):
    api, database = ComponentFactory(name="API"), ComponentFactory(name="Database")
    # A JSON client, a form post from the status page, and a subscriber of another component.
    body = {"email": "Ann@Example.COM", "components": [api.pk]}
    assert client.post("/api/status/subscribe", body, "application/json").status_code == 202
    assert client.post("/api/status/subscribe", {"email": "all@example.com"}).status_code == 202
    client.post("/api/status/subscribe", {"email": "db@example.com", "components": [str(database.pk)]})
    assert smtp.messages == []  # nothing is sent by the request itself
    deliveries_send_due()
    assert sorted(m["To"] for m in smtp.messages) == ["Ann@example.com", "all@example.com", "db@example.com"]

    for address in ("Ann@example.com", "all@example.com", "db@example.com"):
        [mail] = mails_to(smtp, address)
        assert mail["Subject"].startswith("Confirm your subscription")
        confirm_path = link_in(mail, "/api/status/confirm/")
        page = client.get(confirm_path)
        assert page.status_code == 200 and b"Confirm subscription" in page.content
        assert Subscriber.objects.get(email=address).status == SubscriberStatus.PENDING  # GET: no
        assert client.post(confirm_path).status_code == 200
    assert Subscriber.objects.filter(status=SubscriberStatus.CONFIRMED).count() == 3
    smtp.messages.clear()

    incident = services.incident_create(
        title="API errors", message="We are investigating.", components={api: ComponentStatus.MAJOR_OUTAGE}
    )
    deliveries_send_due()
    assert sorted(m["To"] for m in smtp.messages) == ["Ann@example.com", "all@example.com"]  # once each
    [mail] = mails_to(smtp, "Ann@example.com")
    assert mail["Subject"] == "[Investigating] API errors"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    one_click = re.fullmatch(r"\s*<http://testserver(/[^>]+)>\s*", str(mail["List-Unsubscribe"])).group(1)

    response = client.post(one_click, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert Subscriber.objects.get(email="Ann@example.com").status == SubscriberStatus.UNSUBSCRIBED
    smtp.messages.clear()

    services.incident_update_create(incident=incident, status=IncidentStatus.RESOLVED, message="Fixed.")
    deliveries_send_due()
    assert [m["To"] for m in smtp.messages] == ["all@example.com"]
    assert smtp.messages[0]["Subject"] == "[Resolved] API errors"
    deliveries_send_due()  # nothing left over, nothing sent twice
    assert len(smtp.messages) == 1
