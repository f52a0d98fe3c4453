"""Slack through a bot: chat.postMessage on a loopback server speaking Slack's Web API shapes
(HTTP 200 with "ok": false for most errors, 429 with Retry-After for rate limits)."""

import pytest
from django.core.exceptions import ValidationError

from config.redact import redact
from notifications.models import Channel, Delivery, DeliveryAttempt
from notifications.services import deliveries_send_due
from tests.notifications.factories import ChannelFactory
from tests.notifications.provider_servers import HOSTILE_TITLE, Answer, ProviderServer, page, send_twice

pytestmark = pytest.mark.django_db

BOT_TOKEN = "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
CONVERSATION = "C0123456789"
POSTED = Answer.json(200, {"ok": True, "channel": CONVERSATION, "ts": "1503435956.000247"})


@pytest.fixture
def slack(settings):
    server = ProviderServer(POSTED)
    settings.SLACK_API_URL = server.url
    yield server
    server.stop()


def bot_channel(**fields):
    arguments = {
        "kind": Channel.Kind.SLACK_BOT,
        "recipients": "",
        "token": BOT_TOKEN,
        "destination": CONVERSATION,
    }
    return ChannelFactory(**{**arguments, **fields})


def failed_with(slack, body: dict) -> Delivery:
    slack.then(Answer.json(200, body))
    bot_channel()
    page()
    deliveries_send_due()
    return Delivery.objects.get()


def test_it_posts_the_message_with_the_bot_token(slack):
    bot_channel()
    page()
    deliveries_send_due()
    [request] = slack.requests
    assert request["path"] == "/chat.postMessage"
    assert request["headers"]["Authorization"] == f"Bearer {BOT_TOKEN}"
    assert request["json"]["channel"] == CONVERSATION
    assert request["json"]["blocks"][0]["text"]["text"] == "Disk almost full on db-1"
    assert Delivery.objects.get().status == Delivery.Status.SENT


def test_it_escapes_a_hostile_title_for_mrkdwn(slack):
    bot_channel()
    page(subject=HOSTILE_TITLE)
    deliveries_send_due()
    fallback = slack.requests[0]["json"]["text"]
    assert "<b>" not in fallback and "&lt;b&gt;" in fallback


def test_an_ok_false_answer_fails_at_once_with_slacks_error_code(slack):
    delivery = failed_with(slack, {"ok": False, "error": "channel_not_found"})
    assert delivery.status == Delivery.Status.FAILED and delivery.attempts == 1
    assert delivery.last_error == "Slack: channel_not_found"


def test_a_revoked_token_fails_at_once(slack):
    delivery = failed_with(slack, {"ok": False, "error": "token_revoked"})
    assert delivery.status == Delivery.Status.FAILED and delivery.last_error == "Slack: token_revoked"


def test_slacks_own_transient_error_is_tried_again(slack):
    delivery = failed_with(slack, {"ok": False, "error": "internal_error"})
    assert delivery.status == Delivery.Status.PENDING
    assert delivery.attempt_log.get().outcome == DeliveryAttempt.Outcome.RETRY
    send_twice()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and len(slack.requests) == 2


def test_a_success_status_with_a_body_that_is_not_json_is_tried_again(slack):
    slack.then(Answer(200, b"<html>proxy error</html>", {"Content-Type": "text/html"}))
    bot_channel()
    page()
    deliveries_send_due()
    assert Delivery.objects.get().status == Delivery.Status.PENDING


def test_it_waits_as_retry_after_says_on_429(slack):
    slack.then(Answer.json(429, {"ok": False, "error": "ratelimited"}, **{"Retry-After": "30"}))
    bot_channel()
    page()
    deliveries_send_due()
    delivery = Delivery.objects.get()
    attempt = delivery.attempt_log.get()
    assert attempt.outcome == DeliveryAttempt.Outcome.RETRY and attempt.error == "HTTP 429: ratelimited"
    assert 29 <= (delivery.next_attempt_at - attempt.started_at).total_seconds() <= 32


def test_a_bot_without_a_conversation_only_sends_direct_messages(slack):
    bot_channel(destination="")
    page()
    deliveries_send_due()
    assert slack.requests == [] and not Delivery.objects.exists()


def test_it_keeps_the_bot_token_out_of_logs():
    assert "AbCdEfGhIjKlMnOp" not in redact(f"Authorization: Bearer {BOT_TOKEN}")
    assert "AbCdEfGhIjKlMnOp" not in redact(f"token={BOT_TOKEN}&x=1 {BOT_TOKEN}")


@pytest.mark.parametrize(
    ("fields", "problem"),
    [({"token": "xoxp-user-token-not-a-bot"}, "token"), ({"destination": "#ops"}, "destination")],
)
def test_it_refuses_a_token_or_conversation_slack_would_not_take(fields, problem):
    channel = Channel(name="s", kind=Channel.Kind.SLACK_BOT, **{"token": BOT_TOKEN, **fields})
    with pytest.raises(ValidationError) as error:
        channel.full_clean()
    assert problem in error.value.message_dict
