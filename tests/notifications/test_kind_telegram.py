import html

import pytest
from django.core.exceptions import ValidationError

from config.redact import redact
from notifications.models import Channel, Delivery, DeliveryAttempt
from notifications.services import deliveries_send_due
from tests.notifications.factories import ChannelFactory
from tests.notifications.provider_servers import HOSTILE_TITLE, Answer, ProviderServer, page, send_twice

pytestmark = pytest.mark.django_db

BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
# sendMessage answers with the Message it sent.
SENT = Answer.json(200, {"ok": True, "result": {"message_id": 42, "chat": {"id": -1001234567890}}})


@pytest.fixture
def telegram(settings):
    server = ProviderServer(SENT)
    settings.TELEGRAM_API_URL = server.url
    yield server
    server.stop()


def telegram_channel(**fields):
    arguments = {
        "kind": Channel.Kind.TELEGRAM,
        "recipients": "",
        "token": BOT_TOKEN,
        "destination": "-1001234567890",
    }
    return ChannelFactory(**{**arguments, **fields})


def test_it_calls_send_message_with_html(telegram):
    telegram_channel()
    page()
    deliveries_send_due()
    [request] = telegram.requests
    assert request["path"] == f"/bot{BOT_TOKEN}/sendMessage"
    assert request["json"]["chat_id"] == "-1001234567890"
    assert request["json"]["parse_mode"] == "HTML"
    text = request["json"]["text"]
    assert text.startswith("<b>Disk almost full on db-1</b>\n\n")
    assert '<a href="https://vigil.example/admin/alerts/alert/7/change/">Open in Vigil</a>' in text
    assert Delivery.objects.get().status == Delivery.Status.SENT


def test_it_escapes_a_hostile_title_for_html(telegram):
    telegram_channel()
    page(subject=HOSTILE_TITLE)
    deliveries_send_due()
    text = telegram.requests[0]["json"]["text"]
    title = text.split("\n\n", 1)[0]
    assert title == f"<b>{html.escape(HOSTILE_TITLE)}</b>"
    assert "</script>" not in text and "<b>x</b>" not in text


def test_it_waits_as_the_body_says_on_429_then_sends_once(telegram):
    limited = {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 35",
        "parameters": {"retry_after": 35},
    }
    telegram.then(Answer.json(429, limited))
    telegram_channel()
    page()
    deliveries_send_due()
    delivery = Delivery.objects.get()
    attempt = delivery.attempt_log.get()
    assert attempt.outcome == DeliveryAttempt.Outcome.RETRY
    assert attempt.error == "HTTP 429: Too Many Requests: retry after 35"
    assert 34 <= (delivery.next_attempt_at - attempt.started_at).total_seconds() <= 37
    send_twice()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 2 and len(telegram.requests) == 2


def test_it_retries_a_5xx(telegram):
    telegram.then(Answer.json(502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}))
    telegram_channel()
    page()
    deliveries_send_due()
    assert Delivery.objects.get().status == Delivery.Status.PENDING


def test_it_fails_an_unknown_chat_at_once_with_telegrams_reason(telegram):
    telegram.then(
        Answer.json(400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"})
    )
    telegram_channel()
    page()
    deliveries_send_due()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED and delivery.attempts == 1
    assert delivery.last_error == "HTTP 400: Bad Request: chat not found"


def test_it_keeps_the_bot_token_out_of_errors_and_logs(telegram, settings):
    settings.TELEGRAM_API_URL = "http://127.0.0.1:1"  # nothing listens: requests quotes the URL
    telegram_channel()
    page()
    deliveries_send_due()
    assert BOT_TOKEN.split(":")[1] not in Delivery.objects.get().last_error
    assert BOT_TOKEN.split(":")[1] not in redact(f"POST https://api.telegram.org/bot{BOT_TOKEN}/sendMessage")


@pytest.mark.parametrize(
    ("fields", "problem"),
    [({"token": "not-a-token"}, "token"), ({"destination": "my chat"}, "destination")],
)
def test_it_refuses_a_bot_token_or_chat_telegram_would_not_take(fields, problem):
    channel = Channel(
        name="t", kind=Channel.Kind.TELEGRAM, **{"token": BOT_TOKEN, "destination": "@vigil_ops", **fields}
    )
    with pytest.raises(ValidationError) as error:
        channel.full_clean()
    assert problem in error.value.message_dict
