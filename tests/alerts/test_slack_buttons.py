"""Slack's buttons on alert messages: the message a Slack channel receives carries them, and a
press, posted to the interactivity endpoint signed as Slack signs it, acts through the alert
services and updates the message at a loopback response_url."""

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

import pytest
from django.test import Client

from alerts.models import AlertEvent
from alerts.notify import alerts_pending_announce
from notifications.services import deliveries_send_due
from tests.alerts.factories import AlertFactory
from tests.notifications.factories import SlackChannelFactory

pytestmark = pytest.mark.django_db
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
URL = "/integrations/slack/interactivity"


@pytest.fixture(autouse=True)
def _slack(settings):
    settings.SLACK_SIGNING_SECRET = SECRET
    settings.SLACK_RESPONSE_URL_HOSTS = ["127.0.0.1"]


@pytest.fixture
def alert():
    return AlertFactory(title="API latency", fingerprint="latency:api")


@pytest.fixture
def sent_message(alert, http_receiver):
    SlackChannelFactory(url=http_receiver.url("/slack-hook"))
    alerts_pending_announce()
    deliveries_send_due()
    return http_receiver.requests[-1]["json"]


def buttons(message: dict) -> dict[str, str]:
    actions = [block for block in message["blocks"] if block["type"] == "actions"]
    return {element["action_id"].split("-")[1]: element["value"] for element in actions[0]["elements"]}


def press_body(token: str, response_url: str, message: dict | None = None) -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": "U024BE7LH", "username": "bob", "team_id": "T1"},
        "actions": [{"action_id": "vigil-acknowledge-1", "type": "button", "value": token}],
        "response_url": response_url,
        "message": message or {},
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def post(
    body: bytes, *, timestamp: int | str | None = None, secret: str = SECRET, signature: str | None = None
):
    timestamp = int(time.time()) if timestamp is None else timestamp
    base = f"v0:{timestamp}:".encode() + body
    signature = signature or "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return Client(enforce_csrf_checks=True).post(
        URL,
        body,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature},
    )


def test_it_sends_buttons_for_the_alert_actions(sent_message):
    assert set(buttons(sent_message)) == {"acknowledge", "resolve", "silence"}
    assert "/alerts/act/" not in json.dumps(sent_message["blocks"][:3])  # links only as buttons


def test_it_acknowledges_and_updates_the_message(
    alert,
    sent_message,
    http_receiver,
    eager_celery,
    django_capture_on_commit_callbacks,
):
    body = press_body(buttons(sent_message)["acknowledge"], http_receiver.url("/response"), sent_message)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(body)
    assert response.status_code == 200
    alert.refresh_from_db()
    assert alert.status == "acknowledged"
    event = alert.events.get(kind=AlertEvent.Kind.ACKNOWLEDGED)
    assert event.actor_name == "Slack user @bob (U024BE7LH)"
    update = http_receiver.requests[-1]
    assert update["path"] == "/response" and update["json"]["replace_original"] is True
    assert not [b for b in update["json"]["blocks"] if b["type"] == "actions"]
    assert "acknowledged by <@U024BE7LH>" in update["json"]["blocks"][-1]["elements"][0]["text"]


def test_it_answers_a_replay_with_an_ephemeral_error_and_changes_nothing(alert, sent_message, http_receiver):
    body = press_body(buttons(sent_message)["acknowledge"], http_receiver.url("/response"))
    assert post(body).status_code == 200
    replay = post(body)
    assert replay.status_code == 200
    assert replay.json()["response_type"] == "ephemeral" and "Nothing was changed" in replay.json()["text"]
    assert alert.events.filter(kind=AlertEvent.Kind.ACKNOWLEDGED).count() == 1


def test_it_refuses_a_bad_signature(alert, sent_message, http_receiver):
    body = press_body(buttons(sent_message)["acknowledge"], http_receiver.url("/response"))
    assert post(body, secret="not-the-secret").status_code == 401
    assert post(body, signature="v0=").status_code == 401
    assert post(body, signature="v0=é").status_code == 401
    alert.refresh_from_db()
    assert alert.status == "firing"


def test_it_refuses_an_old_timestamp(alert, sent_message, http_receiver):
    body = press_body(buttons(sent_message)["acknowledge"], http_receiver.url("/response"))
    assert post(body, timestamp=int(time.time()) - 301).status_code == 401
    assert post(body, timestamp="9" * 5000).status_code == 401
    alert.refresh_from_db()
    assert alert.status == "firing"


def test_it_answers_a_tampered_token_with_an_ephemeral_error(alert, sent_message, http_receiver):
    token = buttons(sent_message)["resolve"]
    response = post(press_body(token[:-4] + "AAAA", http_receiver.url("/response")))
    assert response.status_code == 200 and response.json()["response_type"] == "ephemeral"
    alert.refresh_from_db()
    assert alert.status == "firing"


@pytest.mark.parametrize(
    "body",
    [
        b"payload=%7Bnot+json",
        b"nothing=here",
        urlencode({"payload": json.dumps({"type": "view_submission"})}).encode(),
        urlencode({"payload": json.dumps({"type": "block_actions", "actions": [], "user": {}})}).encode(),
        urlencode({"payload": json.dumps([1, 2])}).encode(),
    ],
)
def test_it_answers_400_to_a_malformed_payload(body):
    response = post(body)
    assert response.status_code == 400 and "payload" in response.json()["error"]


def test_it_refuses_everything_without_a_signing_secret(settings, alert, sent_message, http_receiver):
    settings.SLACK_SIGNING_SECRET = ""
    assert post(press_body(buttons(sent_message)["acknowledge"], http_receiver.url("/r"))).status_code == 403


def test_it_does_not_post_to_a_response_url_outside_the_allowed_hosts(
    settings,
    alert,
    sent_message,
    http_receiver,
    eager_celery,
    django_capture_on_commit_callbacks,
):
    settings.SLACK_RESPONSE_URL_HOSTS = ["hooks.slack.com"]
    before = len(http_receiver.requests)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(press_body(buttons(sent_message)["acknowledge"], http_receiver.url("/response")))
    assert response.status_code == 200
    alert.refresh_from_db()
    assert alert.status == "acknowledged"
    assert len(http_receiver.requests) == before


def test_it_answers_405_to_a_get():
    assert Client().get(URL).status_code == 405
