import pytest
from django.core.exceptions import ValidationError

from notifications.models import Channel, Delivery, DeliveryAttempt
from notifications.services import channel_send_test, deliveries_send_due
from tests.notifications.factories import ChannelFactory
from tests.notifications.incident_tool_servers import GENIE_KEY, OPSGENIE_BAD_KEY, opsgenie_server
from tests.notifications.provider_servers import Answer, page, send_twice

pytestmark = pytest.mark.django_db

ALERT = {
    "alerts": [{"id": 7, "fingerprint": "rule:3/db 1", "title": "Disk almost full", "status": "firing"}],
    "url": "https://vigil.example/admin/alerts/alert/7/change/",
}


@pytest.fixture
def opsgenie(settings):
    server = opsgenie_server()
    settings.OPSGENIE_API_URL = server.url
    yield server
    server.stop()


def opsgenie_channel(**fields):
    return ChannelFactory(kind=Channel.Kind.OPSGENIE, recipients="", **{"token": GENIE_KEY, **fields})


def test_it_creates_an_alert_aliased_by_the_fingerprint_with_the_genie_key(opsgenie):
    opsgenie_channel()
    page(context=ALERT)
    deliveries_send_due()
    [request] = opsgenie.requests
    body = request["json"]
    assert request["path"] == "/v2/alerts"
    assert request["headers"]["Authorization"] == f"GenieKey {GENIE_KEY}"
    assert (body["message"], body["alias"], body["priority"]) == (
        "Disk almost full on db-1",
        "rule:3/db 1",
        "P1",
    )
    assert body["details"]["url"] == ALERT["url"] and "Disk at 93 %" not in body["message"]
    assert all(isinstance(value, str) for value in body["details"].values())
    assert Delivery.objects.get().status == Delivery.Status.SENT


@pytest.mark.parametrize(("ours", "priority"), [("high", "P2"), ("medium", "P3"), ("low", "P4")])
def test_it_sets_the_priority_by_severity(opsgenie, ours, priority):
    opsgenie_channel()
    page(context=ALERT, severity=ours)
    deliveries_send_due()
    assert opsgenie.requests[0]["json"]["priority"] == priority


def test_it_cuts_the_message_to_130_characters(opsgenie):
    opsgenie_channel()
    page(context=ALERT, subject="x" * 200)
    deliveries_send_due()
    assert opsgenie.requests[0]["json"]["message"] == "x" * 130


@pytest.mark.parametrize(
    ("kind", "verb"), [("alert.acknowledged", "acknowledge"), ("alert.resolved", "close")]
)
def test_it_acknowledges_and_closes_by_alias(opsgenie, kind, verb):
    opsgenie_channel()
    page(kind=kind, context=ALERT, dedup_key=kind)
    deliveries_send_due()
    # The alias is one path segment, whatever it holds.
    assert opsgenie.requests[0]["path"] == f"/v2/alerts/rule%3A3%2Fdb%201/{verb}?identifierType=alias"


def test_it_fails_a_4xx_at_once_with_opsgenies_message(opsgenie):
    opsgenie.then(Answer.json(422, OPSGENIE_BAD_KEY))
    opsgenie_channel()
    page(context=ALERT)
    deliveries_send_due()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED and delivery.attempts == 1
    assert delivery.last_error == "HTTP 422: Key format is not valid!"


def test_it_retries_a_429_then_sends_once(opsgenie):
    opsgenie.then(
        Answer.json(429, {"message": "You are making too many requests!", "took": 0, "requestId": "r"})
    )
    opsgenie_channel()
    page(context=ALERT)
    deliveries_send_due()
    delivery = Delivery.objects.get()
    assert delivery.attempt_log.get().outcome == DeliveryAttempt.Outcome.RETRY
    send_twice()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 2 and len(opsgenie.requests) == 2


def test_its_test_notification_creates_then_closes_an_informational_alert(opsgenie):
    channel = opsgenie_channel(enabled=False)
    message = channel_send_test(channel=channel)
    deliveries_send_due()
    create, close = opsgenie.requests
    assert create["json"]["priority"] == "P5" and create["json"]["alias"] == message.dedup_key
    assert close["path"].startswith("/v2/alerts/test%3A") and close["path"].endswith(
        "/close?identifierType=alias"
    )


def test_it_stops_at_a_refused_create_without_closing(opsgenie):
    opsgenie.then(Answer.json(403, {"message": "Unauthorized", "took": 0, "requestId": "r"}))
    channel_send_test(channel=opsgenie_channel())
    deliveries_send_due()
    assert len(opsgenie.requests) == 1
    assert Delivery.objects.get().last_error == "HTTP 403: Unauthorized"


def test_it_needs_an_api_key_of_the_right_shape():
    with pytest.raises(ValidationError) as error:
        Channel(name="o", kind=Channel.Kind.OPSGENIE, token="GenieKey abc").full_clean()
    assert "token" in error.value.message_dict
