import pytest
from django.core.exceptions import ValidationError

from notifications.models import Channel, Delivery, DeliveryAttempt
from notifications.services import deliveries_send_due
from tests.notifications.factories import ChannelFactory
from tests.notifications.provider_servers import HOSTILE_TITLE, Answer, ProviderServer, page, send_twice

pytestmark = pytest.mark.django_db

APP_TOKEN = "AWJ3hGx.k1FsT2u"
# POST /message answers with the message it stored.
STORED = Answer.json(200, {"id": 25, "appid": 5, "message": "...", "title": "...", "priority": 10})
UNAUTHORIZED = {
    "error": "Unauthorized",
    "errorCode": 401,
    "errorDescription": "you need to provide a valid access token or user credentials to access this api",
}


@pytest.fixture
def gotify():
    server = ProviderServer(STORED)
    yield server
    server.stop()


def gotify_channel(server):
    return ChannelFactory(kind=Channel.Kind.GOTIFY, recipients="", url=server.url, token=APP_TOKEN)


def test_it_posts_a_message_with_priority_by_severity_and_the_app_token(gotify):
    gotify_channel(gotify)
    page()
    deliveries_send_due()
    [request] = gotify.requests
    assert request["path"] == "/message"
    assert request["headers"]["X-Gotify-Key"] == APP_TOKEN
    assert request["json"]["title"] == "Disk almost full on db-1"
    assert request["json"]["priority"] == 10
    assert request["json"]["extras"]["client::notification"]["click"]["url"] == (
        "https://vigil.example/admin/alerts/alert/7/change/"
    )
    assert Delivery.objects.get().status == Delivery.Status.SENT


def test_it_maps_medium_severity_to_a_quiet_priority(gotify):
    gotify_channel(gotify)
    page(severity="medium")
    deliveries_send_due()
    assert gotify.requests[0]["json"]["priority"] == 5


def test_it_carries_a_hostile_title_as_inert_plain_text(gotify):
    gotify_channel(gotify)
    page(subject=HOSTILE_TITLE)
    deliveries_send_due()
    body = gotify.requests[0]["json"]
    assert body["title"] == HOSTILE_TITLE
    assert body["extras"]["client::display"] == {"contentType": "text/plain"}
    assert set(body) == {"title", "message", "priority", "extras"}


def test_it_waits_as_told_on_429_then_sends_once(gotify):
    gotify.then(Answer.json(429, {"error": "Too Many Requests", "errorCode": 429}, **{"Retry-After": "45"}))
    gotify_channel(gotify)
    page()
    deliveries_send_due()
    delivery = Delivery.objects.get()
    attempt = delivery.attempt_log.get()
    assert attempt.outcome == DeliveryAttempt.Outcome.RETRY
    assert 44 <= (delivery.next_attempt_at - attempt.started_at).total_seconds() <= 47
    send_twice()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 2 and len(gotify.requests) == 2


def test_it_retries_a_5xx(gotify):
    gotify.then(Answer.json(500, {"error": "Internal Server Error", "errorCode": 500}))
    gotify_channel(gotify)
    page()
    deliveries_send_due()
    assert Delivery.objects.get().status == Delivery.Status.PENDING


def test_it_fails_a_bad_token_at_once_with_gotifys_reason(gotify):
    gotify.then(Answer.json(401, UNAUTHORIZED))
    gotify_channel(gotify)
    page()
    deliveries_send_due()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED and delivery.attempts == 1
    assert delivery.last_error == f"HTTP 401: {UNAUTHORIZED['errorDescription']}"


def test_it_needs_a_server_and_a_token():
    with pytest.raises(ValidationError) as error:
        Channel(name="g", kind=Channel.Kind.GOTIFY, url="", token="").full_clean()
    assert {"url"} <= set(error.value.message_dict)
    with pytest.raises(ValidationError) as error:
        Channel(
            name="g", kind=Channel.Kind.GOTIFY, url="https://gotify.example", token="has space"
        ).full_clean()
    assert "token" in error.value.message_dict
