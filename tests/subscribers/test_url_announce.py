"""Incident and maintenance updates to webhook, Slack and Teams subscribers, through the outbox."""

import hashlib
import hmac
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Delivery, Message
from notifications.services import deliveries_send_due
from statuspage import services
from statuspage.announce import incident_update_announce
from statuspage.models import ComponentStatus, IncidentStatus
from subscribers.models import SubscriberStatus
from tests.statuspage.factories import ComponentFactory
from tests.subscribers.factories import SubscriberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return ComponentFactory(name="API")


def hook(receiver, path="/hook", **fields):
    return SubscriberFactory(kind="webhook", email="", url=receiver.url(path), secret="s3cret", **fields)


def open_incident(component):
    return services.incident_create(
        title="Slow requests",
        message="Looking into it.",
        components={component: ComponentStatus.MAJOR_OUTAGE},
    )


def test_it_posts_the_statuspage_webhook_body(receiver, api):
    subscriber = hook(receiver)
    incident = open_incident(api)
    deliveries_send_due()
    [request] = receiver.deliveries()
    body = request["json"]
    assert set(body) == {"meta", "page", "incident"}
    assert (
        body["meta"]["unsubscribe"] == f"http://testserver/api/status/unsubscribe/{subscriber.manage_token}"
    )
    assert body["meta"]["documentation"].startswith("https://")
    assert body["page"] == {
        "id": "vigil",
        "status_indicator": "critical",
        "status_description": "Major System Outage",
    }
    assert body["incident"]["id"] == str(incident.pk) and body["incident"]["name"] == "Slow requests"
    assert body["incident"]["incident_updates"][0]["body"] == "Looking into it."


def test_it_signs_each_delivery_with_the_subscribers_secret(receiver, api):
    hook(receiver)
    open_incident(api)
    deliveries_send_due()
    [request] = receiver.deliveries()
    signed = request["headers"]["X-Vigil-Timestamp"].encode() + b"." + request["body"]
    expected = "sha256=" + hmac.new(b"s3cret", signed, hashlib.sha256).hexdigest()
    assert request["headers"]["X-Vigil-Signature"] == expected


def test_it_lists_the_newest_update_first(receiver, api):
    hook(receiver)
    incident = open_incident(api)
    services.incident_update_create(incident=incident, status=IncidentStatus.IDENTIFIED, message="Found it.")
    deliveries_send_due()
    latest = receiver.deliveries()[-1]["json"]["incident"]
    assert latest["status"] == "identified" and latest["incident_updates"][0]["body"] == "Found it."


def test_it_writes_one_delivery_per_subscriber_and_message_even_when_retried(receiver, api):
    hook(receiver, "/a")
    hook(receiver, "/b")
    incident = open_incident(api)
    incident_update_announce(update=incident.updates.get())  # a retried fan-out
    assert Delivery.objects.filter(kind="webhook", message__kind="incident.created").count() == 2


def test_it_sends_only_to_subscribers_of_the_affected_components(receiver, api):
    other = ComponentFactory(name="Billing")
    hook(receiver, "/api", components=[api])
    hook(receiver, "/billing", components=[other])
    hook(receiver, "/pending", status=SubscriberStatus.PENDING)
    open_incident(api)
    deliveries_send_due()
    assert [r["path"] for r in receiver.deliveries()] == ["/api"]


def test_it_stops_after_the_unsubscribe_url_in_the_payload_is_posted(client, receiver, api):
    hook(receiver)
    incident = open_incident(api)
    deliveries_send_due()
    unsubscribe = receiver.deliveries()[0]["json"]["meta"]["unsubscribe"].removeprefix("http://testserver")
    assert client.post(unsubscribe, content_type="application/json").status_code == 200
    services.incident_update_create(incident=incident, status=IncidentStatus.RESOLVED, message="Fixed.")
    deliveries_send_due()
    assert len(receiver.deliveries()) == 1


def test_it_posts_slack_subscribers_a_slack_message_with_an_unsubscribe_link(receiver, api):
    receiver.mode = "ok"
    subscriber = SubscriberFactory(kind="slack", email="", url=receiver.url("/services/T/B/x"))
    open_incident(api)
    deliveries_send_due()
    [request] = receiver.requests
    text = request["json"]["blocks"][1]["text"]["text"]
    assert request["json"]["blocks"][0]["text"]["text"] == "[Investigating] Slow requests"
    assert f"/api/status/unsubscribe/{subscriber.manage_token}" in text


def test_it_posts_teams_subscribers_a_card_with_an_unsubscribe_link(receiver, api):
    receiver.mode = "accepted"
    subscriber = SubscriberFactory(kind="teams", email="", url=receiver.url("/workflows/x"))
    open_incident(api)
    deliveries_send_due()
    [request] = receiver.requests
    card = request["json"]["attachments"][0]["content"]
    assert f"/api/status/unsubscribe/{subscriber.manage_token}" in card["body"][1]["inlines"][0]["text"]
    assert Delivery.objects.get().status == Delivery.Status.SENT


def test_it_sends_maintenance_as_a_statuspage_incident_with_its_schedule(receiver):
    hook(receiver)
    start = timezone.now() + timedelta(days=1)
    services.maintenance_schedule(
        title="Swap", scheduled_for=start, scheduled_until=start + timedelta(hours=1)
    )
    deliveries_send_due()
    incident = receiver.deliveries()[0]["json"]["incident"]
    assert incident["name"] == "Swap" and incident["status"] == "scheduled"
    assert incident["scheduled_for"] is not None and incident["impact"] == "maintenance"


def test_it_keeps_the_signing_secret_out_of_the_delivery_admin(admin_client_, receiver, api):
    hook(receiver)
    open_incident(api)
    delivery = Delivery.objects.get(message__kind="incident.created")
    response = admin_client_.get(f"/admin/notifications/delivery/{delivery.pk}/change/")
    assert response.status_code == 200 and b"s3cret" not in response.content


def test_it_posts_a_component_status_change_as_a_statuspage_component_update(receiver, api):
    hook(receiver, components=[api])
    services.component_set_status(component=api, status=ComponentStatus.DEGRADED_PERFORMANCE)
    deliveries_send_due()
    [request] = receiver.component_updates()
    body = request["json"]
    assert set(body) == {"meta", "page", "component_update", "component"}
    assert body["component_update"]["old_status"] == "operational"
    assert body["component_update"]["new_status"] == "degraded_performance"
    assert body["component"]["id"] == str(api.pk) == body["component_update"]["component_id"]
    assert request["headers"]["X-Vigil-Event"] == "component.updated"


def test_it_writes_no_component_update_without_a_webhook_subscriber_of_it(receiver, api):
    SubscriberFactory(email="ann@example.com")
    hook(receiver, components=[ComponentFactory(name="Billing")])
    services.component_set_status(component=api, status=ComponentStatus.DEGRADED_PERFORMANCE)
    assert not Message.objects.filter(kind="component.updated").exists()
