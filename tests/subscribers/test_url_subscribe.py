"""Subscribing a webhook, Slack or Teams URL: the checks on the URL and the one attempt that proves it."""

import hashlib
import hmac
import time

import pytest

from subscribers.models import Subscriber, SubscriberKind, SubscriberStatus
from tests.statuspage.factories import ComponentFactory
from tests.subscribers.factories import SubscriberFactory
from tests.subscribers.receivers import Receiver

pytestmark = pytest.mark.django_db
SUBSCRIBE = "/api/status/subscribe"


def subscribe(client, **body):
    return client.post(SUBSCRIBE, body, content_type="application/json")


def test_it_confirms_a_webhook_that_echoes_the_challenge_and_shows_its_secret_once(client, receiver):
    response = subscribe(client, webhook=receiver.url())
    subscriber = Subscriber.objects.get()
    assert response.status_code == 201 and response.json()["secret"] == subscriber.secret
    assert subscriber.kind == SubscriberKind.WEBHOOK and subscriber.status == SubscriberStatus.CONFIRMED


def test_it_posts_a_signed_challenge(client, receiver):
    secret = subscribe(client, kind="webhook", url=receiver.url()).json()["secret"]
    [challenge] = receiver.requests
    signed = challenge["headers"]["X-Vigil-Timestamp"].encode() + b"." + challenge["body"]
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    assert challenge["json"]["type"] == "subscription.challenge"
    assert challenge["headers"]["X-Vigil-Signature"] == expected


def test_it_takes_the_challenge_back_as_json():
    server = Receiver("json")
    try:
        from django.test import Client

        assert subscribe(Client(), webhook=server.url()).status_code == 201
    finally:
        server.stop()


def test_it_leaves_a_webhook_pending_with_the_error_when_the_answer_is_not_the_challenge(client, receiver):
    receiver.mode = "wrong"
    response = subscribe(client, webhook=receiver.url())
    subscriber = Subscriber.objects.get()
    assert response.status_code == 400 and "not the challenge" in response.json()["errors"]["url"][0]
    assert subscriber.status == SubscriberStatus.PENDING and "not the challenge" in subscriber.verify_error


def test_it_leaves_a_failing_webhook_pending(client, receiver):
    receiver.mode = "fail"
    response = subscribe(client, webhook=receiver.url())
    assert response.status_code == 400 and "HTTP 500" in response.json()["detail"]
    assert Subscriber.objects.get().status == SubscriberStatus.PENDING


def test_it_spends_one_bounded_attempt_on_a_slow_webhook(client, settings, receiver):
    settings.SUBSCRIBERS_VERIFY_SECONDS = 1
    receiver.mode = "slow"
    started = time.monotonic()
    response = subscribe(client, webhook=receiver.url())
    assert response.status_code == 400 and time.monotonic() - started < 3
    assert len(receiver.requests) == 1 and Subscriber.objects.get().status == SubscriberStatus.PENDING


def test_it_refuses_a_private_address(client, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    response = subscribe(client, webhook="http://10.0.0.5/hook")
    assert response.status_code == 400 and "not a public address" in response.json()["errors"]["url"][0]
    assert not Subscriber.objects.exists()


def test_it_refuses_an_unknown_kind(client):
    response = subscribe(client, kind="carrier-pigeon", url="https://example.com/")
    assert response.status_code == 400 and "kind must be one of" in response.json()["detail"]


def test_it_keeps_the_chosen_components(client, receiver):
    api = ComponentFactory(name="API")
    subscribe(client, webhook=receiver.url(), components=[api.pk])
    assert list(Subscriber.objects.get().components.all()) == [api]


def test_it_shows_no_secret_for_a_url_already_subscribed(client, receiver):
    first = subscribe(client, webhook=receiver.url()).json()["secret"]
    again = subscribe(client, webhook=receiver.url())
    assert again.status_code == 200 and "secret" not in again.json()
    assert Subscriber.objects.get().secret == first


def test_it_issues_a_new_secret_when_an_unsubscribed_webhook_subscribes_again(client, receiver):
    SubscriberFactory(kind="webhook", email="", url=receiver.url(), secret="old", status="unsubscribed")
    response = subscribe(client, webhook=receiver.url())
    assert response.status_code == 201 and response.json()["secret"] not in ("", "old")


def test_it_refuses_a_slack_url_on_another_host(client):
    response = subscribe(client, kind="slack", url="https://example.com/services/T0/B0/x")
    assert response.status_code == 400 and "hooks.slack.com" in response.json()["detail"]


def test_it_refuses_a_slack_url_over_plain_http(client):
    response = subscribe(client, kind="slack", url="http://hooks.slack.com/services/T0/B0/x")
    assert response.status_code == 400 and "https://" in response.json()["detail"]


def test_it_takes_a_teams_workflow_host(settings):
    from subscribers.verify import url_problem

    url = "https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=x"
    assert url_problem("teams", url) is None


def test_it_confirms_slack_after_a_test_message_in_slack_blocks(client, chat_hosts, receiver):
    receiver.mode = "ok"
    response = subscribe(client, kind="slack", url=receiver.url("/services/T0/B0/secret"))
    [message] = receiver.requests
    assert response.status_code == 201 and "secret" not in response.json()
    assert message["json"]["blocks"][0]["type"] == "header"
    assert "/api/status/unsubscribe/" in message["json"]["blocks"][1]["text"]["text"]


def test_it_confirms_teams_after_a_test_message_as_an_adaptive_card(client, chat_hosts, receiver):
    receiver.mode = "accepted"
    response = subscribe(client, kind="teams", url=receiver.url("/workflows/x/invoke"))
    [message] = receiver.requests
    [attachment] = message["json"]["attachments"]
    assert response.status_code == 201 and attachment["content"]["type"] == "AdaptiveCard"


def test_it_leaves_slack_pending_when_the_test_message_is_refused(client, chat_hosts, receiver):
    receiver.mode = "fail"
    response = subscribe(client, kind="slack", url=receiver.url("/services/T0/B0/x"))
    assert response.status_code == 400 and "test message was not accepted" in response.json()["detail"]


def test_it_subscribes_a_url_from_the_form_and_shows_the_secret_on_the_page(client, receiver):
    response = client.post(SUBSCRIBE, {"kind": "webhook", "url": receiver.url()})
    assert response.status_code == 201
    assert Subscriber.objects.get().secret.encode() in response.content
