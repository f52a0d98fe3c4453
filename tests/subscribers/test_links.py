"""Confirm, unsubscribe and manage links: pages, one-click, tampered, expired and reused tokens."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from core.tokens import token_digest
from notifications.models import Delivery
from subscribers.models import Subscriber, SubscriberStatus
from subscribers.services import subscriber_subscribe
from tests.statuspage.factories import ComponentFactory
from tests.subscribers.factories import SubscriberFactory

pytestmark = pytest.mark.django_db


def pending(email="ann@example.com") -> tuple[Subscriber, str]:
    """A pending subscriber and the raw token its confirmation mail carries."""
    result = subscriber_subscribe(email=email)
    url = Delivery.objects.filter(recipient=email).latest("pk").context["confirm_url"]
    token = url.rsplit("/", 1)[1]
    return Subscriber.objects.get(pk=result.subscriber.pk), token


def test_it_issues_unrelated_256_bit_tokens_and_stores_only_the_confirmation_digest():
    ann, ann_token = pending("ann@example.com")
    bob, bob_token = pending("bob@example.com")
    assert len(ann_token) >= 43 and ann_token != bob_token and ann.manage_token != bob.manage_token
    assert ann.confirm_token_digest == token_digest(ann_token) and ann_token not in str(vars(ann))


def test_it_shows_a_page_with_one_button_and_does_not_confirm_on_get(client):
    subscriber, token = pending()
    response = client.get(f"/api/status/confirm/{token}")
    # ours, the footer's two subscribe forms and the language picker
    assert response.status_code == 200 and response.content.count(b"<form") == 4
    assert b'method="post"' in response.content and response["Cache-Control"] == "no-store"
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.PENDING


def test_it_confirms_on_post_and_a_second_post_changes_nothing(client):
    subscriber, token = pending()
    assert client.post(f"/api/status/confirm/{token}").status_code == 200
    subscriber.refresh_from_db()
    first = subscriber.confirmed_at
    again = client.post(f"/api/status/confirm/{token}", HTTP_ACCEPT="application/json")
    assert again.status_code == 200 and again.json()["status"] == "confirmed"
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.CONFIRMED and subscriber.confirmed_at == first


def test_it_lets_a_json_client_confirm_directly(client):
    _, token = pending()
    response = client.post(f"/api/status/confirm/{token}", HTTP_ACCEPT="application/json")
    assert response.json()["status"] == "confirmed"


@pytest.mark.parametrize("suffix", ["x", "-tampered", ""])
def test_it_refuses_a_tampered_token_with_400(client, suffix):
    _, token = pending()
    bad = (token[:-3] + suffix) if suffix else token[::-1]
    page = client.get(f"/api/status/confirm/{bad}")
    assert page.status_code == 400 and b"not valid" in page.content
    api = client.post(f"/api/status/confirm/{bad}", HTTP_ACCEPT="application/json")
    assert api.status_code == 400 and api.json()["errors"]["token"]
    assert Subscriber.objects.get().status == SubscriberStatus.PENDING


@pytest.mark.parametrize(
    "token", ["short", "a" * 500, "%00%0d%0a" * 5, "../../etc/passwd-aaaaaaaaaaaaaaaaaaaa"]
)
def test_it_answers_garbage_tokens_with_400_not_500(client, token):
    for path in ("confirm", "unsubscribe", "manage"):
        assert client.get(f"/api/status/{path}/{token}").status_code in (400, 404)
        assert client.post(f"/api/status/{path}/{token}").status_code in (400, 404)


def test_it_refuses_an_expired_confirmation_token(client, settings):
    _, token = pending()
    with time_machine.travel(timezone.now() + timedelta(hours=settings.SUBSCRIBERS_CONFIRM_HOURS, seconds=1)):
        page = client.get(f"/api/status/confirm/{token}")
        api = client.post(f"/api/status/confirm/{token}", HTTP_ACCEPT="application/json")
    assert page.status_code == 400 and b"expired" in page.content
    assert api.status_code == 400 and "expired" in api.json()["detail"]
    assert Subscriber.objects.get().status == SubscriberStatus.PENDING


def test_it_accepts_a_token_just_before_it_expires(client, settings):
    _, token = pending()
    with time_machine.travel(
        timezone.now() + timedelta(hours=settings.SUBSCRIBERS_CONFIRM_HOURS, seconds=-5)
    ):
        assert client.post(f"/api/status/confirm/{token}").status_code == 200


def test_it_refuses_a_token_replaced_by_a_newer_one(client):
    _, old = pending()
    _, new = pending()
    assert client.post(f"/api/status/confirm/{old}").status_code == 400
    assert client.post(f"/api/status/confirm/{new}").status_code == 200


def test_it_refuses_a_used_token_after_the_subscriber_unsubscribed(client):
    subscriber, token = pending()
    client.post(f"/api/status/confirm/{token}")
    subscriber.refresh_from_db()
    client.post(f"/api/status/unsubscribe/{subscriber.manage_token}")
    response = client.post(f"/api/status/confirm/{token}")
    assert response.status_code == 400 and b"already used" in response.content
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.UNSUBSCRIBED


def test_it_shows_an_unsubscribe_page_with_one_button_and_keeps_the_subscription_on_get(client):
    subscriber = SubscriberFactory()
    response = client.get(f"/api/status/unsubscribe/{subscriber.manage_token}")
    assert response.status_code == 200 and b">Unsubscribe</button>" in response.content
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.CONFIRMED


def test_it_unsubscribes_on_a_one_click_post_and_again_is_a_no_op(client):
    subscriber = SubscriberFactory()
    url = f"/api/status/unsubscribe/{subscriber.manage_token}"
    body = "List-Unsubscribe=One-Click"
    assert client.post(url, body, "application/x-www-form-urlencoded").status_code == 200
    subscriber.refresh_from_db()
    first = subscriber.unsubscribed_at
    assert subscriber.status == SubscriberStatus.UNSUBSCRIBED and first
    assert client.post(url, body, "application/x-www-form-urlencoded").status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.unsubscribed_at == first


def test_it_refuses_a_tampered_unsubscribe_token(client):
    subscriber = SubscriberFactory()
    bad = subscriber.manage_token[:-2] + "zz"
    response = client.post(f"/api/status/unsubscribe/{bad}", HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.CONFIRMED


def test_it_lets_a_subscriber_change_components_on_the_manage_page(client):
    api, db = ComponentFactory(name="API"), ComponentFactory(name="DB")
    subscriber = SubscriberFactory()
    url = f"/api/status/manage/{subscriber.manage_token}"
    page = client.get(url)
    assert page.status_code == 200 and b'value="%d"' % api.pk in page.content
    assert client.post(url, {"components": [str(db.pk)]}).status_code == 200
    assert list(subscriber.components.all()) == [db]
    assert client.post(url, {}).status_code == 200  # none chosen = all
    assert not subscriber.components.exists()


def test_it_lets_a_json_client_manage_components(client):
    api = ComponentFactory()
    subscriber = SubscriberFactory()
    url = f"/api/status/manage/{subscriber.manage_token}"
    response = client.post(url, {"components": [api.pk]}, "application/json")
    assert response.json()["components"] == [api.pk]
    assert client.post(url, {"components": ["nope"]}, "application/json").status_code == 400


def test_it_refuses_to_change_components_of_an_unsubscribed_address(client):
    api = ComponentFactory()
    subscriber = SubscriberFactory(status=SubscriberStatus.UNSUBSCRIBED)
    response = client.post(
        f"/api/status/manage/{subscriber.manage_token}", {"components": [api.pk]}, "application/json"
    )
    assert response.status_code == 400 and not subscriber.components.exists()
