import pytest
from django.core.exceptions import ValidationError

from notifications.models import Channel, Delivery, DeliveryAttempt
from notifications.services import deliveries_send_due
from tests.notifications.factories import ChannelFactory
from tests.notifications.provider_servers import HOSTILE_TITLE, Answer, ProviderServer, page, send_twice

pytestmark = pytest.mark.django_db

# ntfy answers a publish with the message it stored.
PUBLISHED = Answer.json(200, {"id": "sPs71M8A2T", "time": 1700000000, "event": "message", "topic": "ops"})


@pytest.fixture
def ntfy(settings):
    server = ProviderServer(PUBLISHED)
    settings.NTFY_URL = server.url
    yield server
    server.stop()


def ntfy_channel(**fields):
    return ChannelFactory(kind=Channel.Kind.NTFY, recipients="", destination="ops", **fields)


def test_it_publishes_json_to_the_topic_with_priority_and_click(ntfy):
    ntfy_channel()
    page()
    deliveries_send_due()
    [request] = ntfy.requests
    assert request["path"] == "/"
    assert request["json"]["topic"] == "ops"
    assert request["json"]["title"] == "Disk almost full on db-1"
    assert request["json"]["priority"] == 5
    assert request["json"]["click"] == "https://vigil.example/admin/alerts/alert/7/change/"
    assert "Authorization" not in request["headers"]
    assert Delivery.objects.get().status == Delivery.Status.SENT


def test_it_maps_low_severity_to_a_low_priority(ntfy):
    ntfy_channel()
    page(severity="low")
    deliveries_send_due()
    assert ntfy.requests[0]["json"]["priority"] == 2


def test_it_sends_the_access_token_as_bearer(ntfy):
    ntfy_channel(token="tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2")
    page()
    deliveries_send_due()
    assert ntfy.requests[0]["headers"]["Authorization"] == "Bearer tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2"


def test_it_uses_the_channels_own_server_over_the_setting(ntfy, settings):
    settings.NTFY_URL = "https://ntfy.invalid"
    ntfy_channel(url=ntfy.url)
    page()
    deliveries_send_due()
    assert len(ntfy.requests) == 1


def test_it_waits_as_told_on_429_then_sends_once(ntfy):
    ntfy.then(
        Answer.json(429, {"code": 42901, "http": 429, "error": "limit reached"}, **{"Retry-After": "90"})
    )
    ntfy_channel()
    page()
    deliveries_send_due()
    delivery = Delivery.objects.get()
    attempt = delivery.attempt_log.get()
    assert attempt.outcome == DeliveryAttempt.Outcome.RETRY and attempt.error == "HTTP 429: limit reached"
    assert 89 <= (delivery.next_attempt_at - attempt.started_at).total_seconds() <= 92
    send_twice()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 2
    assert len(ntfy.requests) == 2


def test_it_retries_a_5xx(ntfy):
    ntfy.then(Answer.json(503, {"code": 50301, "http": 503, "error": "service unavailable"}))
    ntfy_channel()
    page()
    deliveries_send_due()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.PENDING and delivery.last_status_code == 503


def test_it_retries_a_408_request_timeout(ntfy):
    ntfy.then(Answer(408, b"request timeout"))
    ntfy_channel()
    page()
    deliveries_send_due()
    assert Delivery.objects.get().attempt_log.get().outcome == DeliveryAttempt.Outcome.RETRY


def test_it_fails_a_4xx_at_once_with_ntfys_reason(ntfy):
    ntfy.then(
        Answer.json(403, {"code": 40301, "http": 403, "error": "forbidden", "link": "https://ntfy.sh/docs"})
    )
    ntfy_channel()
    page()
    deliveries_send_due()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED and delivery.attempts == 1
    assert delivery.last_error == "HTTP 403: forbidden"


def test_it_carries_a_hostile_title_as_inert_json(ntfy):
    ntfy_channel()
    page(subject=HOSTILE_TITLE)
    deliveries_send_due()
    [request] = ntfy.requests
    assert request["json"]["title"] == HOSTILE_TITLE
    assert set(request["json"]) == {"topic", "title", "message", "priority", "click", "tags"}


def test_it_refuses_a_topic_ntfy_would_not_take():
    with pytest.raises(ValidationError) as error:
        Channel(name="n", kind=Channel.Kind.NTFY, destination="ops/../x").full_clean()
    assert "destination" in error.value.message_dict


def test_it_refuses_a_server_url_vigil_may_not_reach():
    with pytest.raises(ValidationError) as error:
        Channel(name="n", kind=Channel.Kind.NTFY, destination="ops", url="ftp://ntfy.example").full_clean()
    assert "url" in error.value.message_dict
