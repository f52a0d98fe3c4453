"""CSRF: every form that posts with the staff's session carries a token and is refused without
one (test_staff_pages.py reads every staff page for that); the login, an admin action and a
quick action work with the token; session-authenticated API writes need the token too,
token-authenticated ones do not.

The public subscriber forms carry no token on purpose (statuspage/subscriber_views.py: they read
no cookie or session, the status page form is served from the shared page cache, and mail
clients' one-click unsubscribe has no cookie); what a cross-site browser POST could do there is
refused by its Origin instead."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from alerts.models import Alert
from subscribers import services as subscriber_service
from subscribers.models import Subscriber, SubscriberStatus
from tests.config.factories import role_user
from tests.security.pages import post_forms

pytestmark = pytest.mark.django_db
PUBLIC_FORM_ACTIONS = (
    "/api/status/subscribe",
    "/api/status/confirm/",
    "/api/status/unsubscribe/",
    "/api/status/manage/",
    "/report-trouble",  # a visitor's trouble report: same-origin checked, counted, nothing stored
)


def _csrf_client(user=None) -> Client:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    return client


def test_it_refuses_an_admin_login_without_a_token():
    role_user("viewer")
    client = _csrf_client()
    response = client.post("/admin/login/", {"username": "viewer", "password": "pw-viewer-12345"})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_it_logs_in_with_the_token():
    role_user("viewer")
    client = _csrf_client()
    client.get("/admin/login/")
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/admin/login/",
        {
            "username": "viewer",
            "password": "pw-viewer-12345",
            "csrfmiddlewaretoken": token,
            "next": "/admin/",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_it_runs_an_admin_action_and_a_quick_action_with_the_token(world):
    client = _csrf_client(role_user("superuser"))
    client.get("/admin/")
    token = client.cookies["csrftoken"].value
    alert = world["alert"]
    changelist = reverse("admin:alerts_alert_changelist")
    data = {"action": "acknowledge", "_selected_action": [alert.pk], "index": "0"}
    assert client.post(changelist, data).status_code == 403
    assert client.post(changelist, {**data, "csrfmiddlewaretoken": token}).status_code == 302
    alert.refresh_from_db()
    assert alert.status == Alert.Status.ACKNOWLEDGED
    resolve = reverse("console-alert-resolve", args=[alert.pk])
    assert client.post(resolve, {}).status_code == 403
    assert client.post(resolve, {"csrfmiddlewaretoken": token}).status_code == 302
    alert.refresh_from_db()
    assert alert.status == Alert.Status.RESOLVED


def test_it_needs_the_token_for_session_api_writes(world):
    client = _csrf_client(role_user("operator"))
    client.get("/admin/")
    url = f"/api/operations/alerts/{world['alert'].pk}/acknowledge"
    refused = client.post(url, {}, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    token = client.cookies["csrftoken"].value
    accepted = client.post(url, {}, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200


def test_it_needs_no_csrf_token_with_an_api_token(world):
    token = Token.objects.create(user=role_user("operator"))
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Token {token.key}")
    url = f"/api/operations/alerts/{world['alert'].pk}/acknowledge"
    assert client.post(url, {}, content_type="application/json").status_code == 200


# --- the public subscriber forms -------------------------------------------------------------


@pytest.fixture
def pending(db, settings):
    settings.PUBLIC_URL = "http://testserver"
    settings.CSRF_TRUSTED_ORIGINS = ["http://testserver"]
    subscriber_service.subscriber_subscribe(email="reader@example.com")
    subscriber = Subscriber.objects.get()
    token = subscriber_service.new_token()
    subscriber.confirm_token_digest = subscriber_service.token_digest(token)
    subscriber.save()
    return subscriber, token


def test_it_keeps_public_forms_free_of_sessions(pending):
    subscriber, confirm = pending
    client = _csrf_client()
    for page in ["/", f"/api/status/confirm/{confirm}", f"/api/status/manage/{subscriber.manage_token}"]:
        response = client.get(page)
        assert response.status_code == 200
        assert "csrftoken" not in response.cookies and "sessionid" not in response.cookies
        actions = [action for action, _ in post_forms(f"http://testserver{page}", response.content.decode())]
        assert actions and all(
            a.removeprefix("http://testserver").startswith(PUBLIC_FORM_ACTIONS) for a in actions
        )


def test_it_accepts_the_status_page_form_and_api_clients_without_a_token():
    client = _csrf_client()
    same_site = client.post(
        "/api/status/subscribe", {"email": "a@example.com"}, HTTP_ORIGIN="http://testserver"
    )
    no_origin = client.post(
        "/api/status/subscribe", {"email": "b@example.com"}, content_type="application/json"
    )
    assert (same_site.status_code, no_origin.status_code) == (202, 202)


def test_it_refuses_a_cross_site_subscribe():
    client = _csrf_client()
    response = client.post(
        "/api/status/subscribe", {"email": "a@example.com"}, HTTP_ORIGIN="https://evil.example"
    )
    assert response.status_code == 403
    fetch = client.post("/api/status/subscribe", {"email": "b@example.com"}, HTTP_SEC_FETCH_SITE="cross-site")
    assert fetch.status_code == 403
    assert not Subscriber.objects.exists()


def test_it_refuses_cross_site_confirm_and_manage(pending, world):
    subscriber, confirm = pending
    client = _csrf_client()
    evil = {"HTTP_ORIGIN": "https://evil.example"}
    assert client.post(f"/api/status/confirm/{confirm}", **evil).status_code == 403
    manage = f"/api/status/manage/{subscriber.manage_token}"
    assert client.post(manage, {"components": [world["component"].pk]}, **evil).status_code == 403
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.PENDING and not subscriber.components.exists()
    assert client.post(f"/api/status/confirm/{confirm}", HTTP_ORIGIN="http://testserver").status_code == 200


def test_it_lets_a_one_click_unsubscribe_through_from_anywhere(pending):
    subscriber, _ = pending
    url = f"/api/status/unsubscribe/{subscriber.manage_token}"
    client = _csrf_client()
    assert client.post(url, {}, HTTP_ORIGIN="https://evil.example").status_code == 403
    response = client.post(url, {"List-Unsubscribe": "One-Click"}, HTTP_ORIGIN="https://webmail.example")
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.UNSUBSCRIBED
