"""Subscriber links: unguessable, expiring, single-purpose, bound to one subscriber, and a bad one
always gets a clear 4xx page (tests/subscribers/test_links.py covers the ordinary flows)."""

import base64
import os
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from notifications.models import Delivery
from subscribers.models import Subscriber, SubscriberStatus
from subscribers.services import subscriber_subscribe
from tests.statuspage.factories import ComponentFactory
from tests.subscribers.factories import SubscriberFactory

pytestmark = pytest.mark.django_db
ACTIONS = ("confirm", "unsubscribe", "manage")


def pending(email: str) -> tuple[Subscriber, str]:
    subscriber_subscribe(email=email)
    url = Delivery.objects.filter(recipient=email).latest("pk").context["confirm_url"]
    return Subscriber.objects.get(email=email), url.rsplit("/", 1)[1]


def _bits(token: str) -> int:
    return len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8


def test_it_issues_random_tokens_of_at_least_128_bits_that_say_nothing_about_the_subscriber():
    tokens = []
    for n in range(12):
        subscriber, confirm = pending(f"reader{n}@example.com")
        tokens += [confirm, subscriber.manage_token]
        for token in (confirm, subscriber.manage_token):
            assert _bits(token) >= 128
            assert "reader" not in token and "example" not in token
    assert len(set(tokens)) == len(tokens)
    # Not sequential: neighbours share no common prefix beyond chance (2 characters = 12 bits).
    prefixes = [len(os.path.commonprefix([a, b])) for a, b in zip(tokens, tokens[1:], strict=False)]
    assert max(prefixes) <= 3


def test_it_expires_the_confirmation_link_after_its_setting(client, settings):
    settings.SUBSCRIBERS_CONFIRM_HOURS = 2
    subscriber, token = pending("late@example.com")
    with time_machine.travel(timezone.now() + timedelta(hours=2, seconds=1)):
        response = client.post(f"/api/status/confirm/{token}")
    assert response.status_code == 400 and b"expired" in response.content
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.PENDING


@pytest.mark.parametrize("used_for", ["unsubscribe", "manage"])
def test_it_refuses_a_confirmation_token_for_anything_else(client, used_for):
    subscriber, token = pending("ann@example.com")
    SubscriberFactory()  # another row, so a lookup by the wrong column could find something
    for method in (client.get, client.post):
        assert method(f"/api/status/{used_for}/{token}").status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.PENDING


def test_it_refuses_a_manage_token_as_a_confirmation(client):
    subscriber, _ = pending("ann@example.com")
    assert client.post(f"/api/status/confirm/{subscriber.manage_token}").status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.PENDING


def test_it_acts_only_on_the_subscriber_the_link_was_made_for(client):
    component = ComponentFactory()
    ann, bob = SubscriberFactory(), SubscriberFactory()
    client.post(f"/api/status/manage/{ann.manage_token}", {"components": [component.pk]})
    client.post(f"/api/status/unsubscribe/{ann.manage_token}")
    bob.refresh_from_db()
    assert bob.status == SubscriberStatus.CONFIRMED and not bob.components.exists()
    ann.refresh_from_db()
    assert ann.status == SubscriberStatus.UNSUBSCRIBED


TAMPERED = [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # one character changed
    lambda t: t[:-4],  # truncated
    lambda t: t + "x",  # extended
    lambda t: t.upper(),
    lambda t: t[:20] + "é" * 5,
    lambda t: t[:20] + "%2e%2e%2f%00",
    lambda t: "x" * 5000,
]


@pytest.mark.parametrize("tamper", TAMPERED)
def test_it_answers_a_tampered_link_with_a_clear_4xx_never_a_500(client, tamper):
    subscriber, confirm = pending("ann@example.com")
    for action in ACTIONS:
        token = tamper(confirm if action == "confirm" else subscriber.manage_token)
        for method in ("get", "post"):
            page = getattr(client, method)(f"/api/status/{action}/{token}")
            json = getattr(client, method)(f"/api/status/{action}/{token}", HTTP_ACCEPT="application/json")
            assert page.status_code in (400, 404) and json.status_code in (400, 404), (action, method, token)
            if page.status_code == 400:
                assert b"not valid" in page.content and json.json()["errors"]["token"]
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.PENDING


def test_it_keeps_link_pages_out_of_caches_and_referrers(client):
    subscriber, confirm = pending("ann@example.com")
    for url in (
        f"/api/status/confirm/{confirm}",
        f"/api/status/unsubscribe/{subscriber.manage_token}",
        f"/api/status/manage/{subscriber.manage_token}",
    ):
        response = client.get(url)
        assert response["Cache-Control"] == "no-store"
        # A link the visitor follows to another site must not carry the secret URL in a Referer.
        assert response["Referrer-Policy"] == "same-origin"
