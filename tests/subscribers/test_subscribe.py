import pytest

from notifications.models import Delivery, Message
from subscribers.models import Subscriber, SubscriberStatus
from subscribers.services import SubscriberError, normalise_email
from tests.statuspage.factories import ComponentFactory
from tests.subscribers.factories import SubscriberFactory

pytestmark = pytest.mark.django_db


def subscribe(client, body, **extra):
    return client.post("/api/status/subscribe", body, "application/json", **extra)


def test_it_creates_a_pending_subscriber_and_queues_the_confirmation_mail(client):
    response = subscribe(client, {"email": " Ann@Example.COM "})
    assert response.status_code == 202 and response.json()["email"] == "Ann@example.com"
    subscriber = Subscriber.objects.get()
    assert subscriber.status == SubscriberStatus.PENDING and subscriber.confirm_sent_at
    delivery = Delivery.objects.get(message__kind="subscriber.confirm")
    assert (
        delivery.recipient == "Ann@example.com" and "/api/status/confirm/" in delivery.context["confirm_url"]
    )


def test_it_answers_a_form_post_with_an_html_page(client):
    response = client.post("/api/status/subscribe", {"email": "ann@example.com"})
    assert response.status_code == 202 and b"Check your inbox" in response.content
    assert response["Content-Type"].startswith("text/html")


def test_it_answers_the_same_whether_or_not_the_address_is_subscribed(client):
    SubscriberFactory(email="known@example.com")
    known = subscribe(client, {"email": "known@example.com"})
    unknown = subscribe(client, {"email": "unknown@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.json()["detail"] == unknown.json()["detail"]


def test_it_keeps_a_confirmed_subscriber_and_their_choice_when_someone_subscribes_them_again(client):
    api = ComponentFactory()
    subscriber = SubscriberFactory(email="known@example.com", components=[api])
    subscribe(client, {"email": "KNOWN@example.com", "components": []})
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.CONFIRMED and list(subscriber.components.all()) == [api]
    assert Message.objects.get().kind == "subscriber.already"  # a note with the manage link, no new token


def test_it_reuses_the_pending_row_and_replaces_its_token(client):
    subscribe(client, {"email": "ann@example.com"})
    first = Subscriber.objects.get().confirm_token_digest
    subscribe(client, {"email": "ann@example.com"})
    assert Subscriber.objects.count() == 1
    assert Subscriber.objects.get().confirm_token_digest != first
    assert Message.objects.filter(kind="subscriber.confirm").count() == 2


def test_it_puts_an_unsubscribed_address_back_to_pending(client):
    SubscriberFactory(email="gone@example.com", status=SubscriberStatus.UNSUBSCRIBED)
    subscribe(client, {"email": "gone@example.com"})
    assert Subscriber.objects.get().status == SubscriberStatus.PENDING


def test_it_stores_the_chosen_components(client):
    api, db = ComponentFactory(), ComponentFactory()
    subscribe(client, {"email": "ann@example.com", "components": [api.pk, db.pk]})
    assert set(Subscriber.objects.get().components.all()) == {api, db}


def test_it_refuses_unknown_components(client):
    response = subscribe(client, {"email": "ann@example.com", "components": [999999]})
    assert response.status_code == 400 and "components" in response.json()["errors"]
    assert not Subscriber.objects.exists()


@pytest.mark.parametrize(
    "address",
    [
        "",
        "not-an-address",
        "ann@",
        "@example.com",
        "ann@localhost",
        "ann@example.com\r\nBcc: victim@example.org",
        "ann@example.com\nSubject: spam",
        "ann@example.com%0d%0aBcc:x@y.z",
        "Ann <ann@example.com>",
        "ann@example.com, bob@example.com",
        "ann@example.com;bob@example.com",
        "a" * 250 + "@example.com",
        "ann@exa mple.com",
        "ann@-example-.com",
    ],
)
def test_it_refuses_malformed_and_hostile_addresses_with_400(client, address):
    response = subscribe(client, {"email": address})
    assert response.status_code == 400
    assert response.json()["errors"]["email"]
    assert not Subscriber.objects.exists() and not Message.objects.exists()


def test_it_refuses_an_address_with_a_nul_character(client):
    # In JSON the body itself is refused (core/parsers.py); in a form the address is.
    response = subscribe(client, {"email": "ann\x00@example.com"})
    assert response.status_code == 400 and "NUL" in response.json()["detail"]
    response = client.post(
        "/api/status/subscribe", {"email": "ann\x00@example.com"}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400 and response.json()["errors"]["email"]
    assert not Subscriber.objects.exists()


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"ann@example.com"', b'{"email": 42}'])
def test_it_refuses_bad_json_bodies_with_400(client, body):
    response = client.post("/api/status/subscribe", body, "application/json")
    assert response.status_code == 400 and response.json()["detail"]


def test_it_shows_a_clear_page_for_a_bad_address_from_the_form(client):
    response = client.post("/api/status/subscribe", {"email": "ann@example.com\r\nBcc: x@example.org"})
    assert response.status_code == 400 and b"line breaks" in response.content


def test_it_refuses_get(client):
    assert client.get("/api/status/subscribe").status_code == 405


def test_it_normalises_the_domain_only():
    assert normalise_email("  John.Doe@EXAMPLE.Org ") == "John.Doe@example.org"
    assert normalise_email("ann@bücher.example") == "ann@xn--bcher-kva.example"


def test_it_treats_addresses_differing_in_case_as_one_subscriber(client):
    subscribe(client, {"email": "ann@example.com"})
    subscribe(client, {"email": "ANN@example.com"})
    assert Subscriber.objects.count() == 1


def test_it_rate_limits_per_address_with_retry_after(client, settings):
    settings.SUBSCRIBERS_RATE_PER_ADDRESS = 2
    for n in range(2):
        assert subscribe(client, {"email": "ann@example.com"}, REMOTE_ADDR=f"10.0.0.{n}").status_code == 202
    response = subscribe(client, {"email": "ANN@example.com"}, REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= settings.SUBSCRIBERS_RATE_WINDOW
    assert "e-mail address" in response.json()["detail"]
    assert Message.objects.count() == 2


def test_it_rate_limits_per_client_ip_even_for_bad_input(client, settings):
    settings.SUBSCRIBERS_RATE_PER_IP = 3
    for n in range(3):
        subscribe(client, {"email": f"bad-{n}"}, REMOTE_ADDR="10.0.0.1")
    response = subscribe(client, {"email": "fine@example.com"}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    assert subscribe(client, {"email": "fine@example.com"}, REMOTE_ADDR="10.0.0.2").status_code == 202


def test_it_reads_the_client_ip_from_the_configured_proxy_header(client, settings):
    settings.SUBSCRIBERS_RATE_PER_IP = 1
    settings.SUBSCRIBERS_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    subscribe(client, {"email": "a@example.com"}, HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.5")
    spoofed = subscribe(client, {"email": "b@example.com"}, HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.5")
    other = subscribe(client, {"email": "c@example.com"}, HTTP_X_FORWARDED_FOR="203.0.113.6")
    assert spoofed.status_code == 429 and other.status_code == 202


def test_it_answers_429_as_a_page_to_a_browser(client, settings):
    settings.SUBSCRIBERS_RATE_PER_IP = 1
    client.post("/api/status/subscribe", {"email": "a@example.com"})
    response = client.post("/api/status/subscribe", {"email": "a@example.com"})
    assert response.status_code == 429 and b"Too many" in response.content and response["Retry-After"]


def test_it_rejects_a_normalised_address_in_the_service_too():
    with pytest.raises(SubscriberError):
        normalise_email("x@example.com\nBcc: y@example.com")


def test_it_serves_the_path_the_status_page_form_posts_to(client):
    page = client.get("/")
    assert b'action="/api/status/subscribe"' in page.content and b'name="email"' in page.content
    response = client.post("/api/status/subscribe", {"email": "reader@example.com"})
    assert response.status_code == 202 and Subscriber.objects.filter(email="reader@example.com").exists()


def test_it_mails_a_confirmed_address_its_manage_link_instead_of_a_new_confirmation(client, smtp):
    from notifications.services import deliveries_send_due

    subscriber = SubscriberFactory(email="known@example.com")
    subscribe(client, {"email": "known@example.com"})
    deliveries_send_due()
    [mail] = smtp.messages
    text = mail.get_body(("plain",)).get_content()
    assert "already subscribed" in text and f"/api/status/manage/{subscriber.manage_token}" in text
    assert "/api/status/confirm/" not in text


def test_it_still_subscribes_when_the_shared_cache_is_down(client, settings, closed_port):
    # The rate limits then count nothing rather than refuse everyone (or fail).
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    assert subscribe(client, {"email": "ann@example.com"}).status_code == 202
