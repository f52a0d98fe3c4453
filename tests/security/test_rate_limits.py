"""Every rate limit: past it, 429 with Retry-After; in the next window, served again. Limits are
lowered through settings where the code reads them at run time; DRF's anonymous throttle is
tested at its configured rate."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from subscribers.models import Subscriber
from tests.config.factories import role_user

pytestmark = pytest.mark.django_db
ADDRESS = "203.0.113.7"  # not loopback, which is exempt by default


def _later(seconds: float):
    return time_machine.travel(timezone.now() + timedelta(seconds=seconds))


def _assert_throttled(response, window: int) -> None:
    assert response.status_code == 429, response.status_code
    assert 0 < int(response["Retry-After"]) <= window


def test_it_throttles_the_public_json_and_lets_the_next_minute_in(settings):
    settings.PUBLIC_THROTTLE_RATES = {"public": 2}
    client = Client(REMOTE_ADDR=ADDRESS)
    assert [client.get("/api/status").status_code for _ in range(2)] == [200, 200]
    _assert_throttled(client.get("/api/v2/summary.json"), 60)
    with _later(61):
        assert client.get("/api/status").status_code == 200


def test_it_cannot_be_dodged_with_a_forged_forwarded_for(settings):
    settings.PUBLIC_THROTTLE_RATES = {"public": 1}
    settings.THROTTLE_TRUST_X_FORWARDED_FOR = True
    client = Client(REMOTE_ADDR="10.0.0.2")
    codes = [
        client.get("/api/status", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, {ADDRESS}").status_code
        for n in range(3)
    ]
    assert codes == [200, 429, 429]


def test_it_throttles_anonymous_drf_calls_at_the_configured_rate(settings):
    client = Client(REMOTE_ADDR=ADDRESS)
    codes = [client.get("/api/docs/").status_code for _ in range(60)]
    assert set(codes) == {200}
    _assert_throttled(client.get("/api/docs/"), 60)
    # A forged X-Forwarded-For does not make a new client (DRF's NUM_PROXIES).
    assert client.get("/api/docs/", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429
    with _later(61):
        assert client.get("/api/docs/").status_code == 200


def test_it_limits_subscribe_requests_per_address_and_per_client(settings):
    settings.SUBSCRIBERS_RATE_PER_IP = 3
    settings.SUBSCRIBERS_RATE_PER_ADDRESS = 2
    settings.SUBSCRIBERS_RATE_WINDOW = 600
    same_person = [
        Client(REMOTE_ADDR=f"198.51.100.{n}").post("/api/status/subscribe", {"email": "ann@example.com"})
        for n in range(3)
    ]
    assert [r.status_code for r in same_person[:2]] == [202, 202]
    _assert_throttled(same_person[2], 600)
    client = Client(REMOTE_ADDR=ADDRESS)
    codes = [
        client.post("/api/status/subscribe", {"email": f"p{n}@example.com"}).status_code for n in range(3)
    ]
    assert codes == [202, 202, 202]
    _assert_throttled(client.post("/api/status/subscribe", {"email": "q@example.com"}), 600)
    with _later(601):
        assert client.post("/api/status/subscribe", {"email": "q@example.com"}).status_code == 202
    assert Subscriber.objects.count() == 5


# --- admin login --------------------------------------------------------------------------


def _login(client: Client, username: str, password: str):
    return client.post("/admin/login/", {"username": username, "password": password, "next": "/admin/"})


def test_it_locks_a_username_after_failed_logins_even_for_the_right_password(settings):
    settings.LOGIN_FAILURES_PER_USERNAME = 3
    settings.LOGIN_FAILURE_WINDOW = 900
    role_user("viewer")
    attempts = [
        _login(Client(REMOTE_ADDR=f"198.51.100.{n}"), "viewer", "wrong").status_code for n in range(3)
    ]
    assert attempts == [200, 200, 200]  # the form again, with its error
    locked = _login(Client(REMOTE_ADDR=ADDRESS), "Viewer", "pw-viewer-12345")
    _assert_throttled(locked, 900)
    assert b"Too many failed logins" in locked.content
    with _later(901):
        assert _login(Client(REMOTE_ADDR=ADDRESS), "viewer", "pw-viewer-12345").status_code == 302


def _form_login(username: str, password: str, address: str):
    """A login through the real form, CSRF enforced: the token comes from the page itself."""
    client = Client(REMOTE_ADDR=address, enforce_csrf_checks=True)
    assert client.get("/admin/login/").status_code == 200
    token = client.cookies["csrftoken"].value
    data = {"username": username, "password": password, "next": "/admin/", "csrfmiddlewaretoken": token}
    return client.post("/admin/login/", data)


def test_it_locks_the_full_width_spelling_of_a_locked_username(settings):
    settings.LOGIN_FAILURES_PER_USERNAME = 3
    role_user("viewer")
    codes = [_form_login("viewer", "wrong", f"198.51.100.{n}").status_code for n in range(3)]
    assert codes == [200, 200, 200]
    # Full-width letters: the form's NFKC turns them into "viewer", the right password.
    locked = _form_login("\uff56\uff49\uff45\uff57\uff45\uff52", "pw-viewer-12345", ADDRESS)
    _assert_throttled(locked, settings.LOGIN_FAILURE_WINDOW)


def test_it_counts_full_width_failures_against_the_plain_username(settings):
    settings.LOGIN_FAILURES_PER_USERNAME = 2
    role_user("viewer")
    for n, spelling in enumerate(["\uff36\uff29\uff25\uff37\uff25\uff32", "VIEWER"]):
        assert _form_login(spelling, "wrong", f"198.51.100.{n}").status_code == 200
    _assert_throttled(_form_login("viewer", "pw-viewer-12345", ADDRESS), settings.LOGIN_FAILURE_WINDOW)


def test_it_limits_failed_logins_per_client_address(settings):
    settings.LOGIN_FAILURES_PER_IP = 3
    role_user("viewer")
    client = Client(REMOTE_ADDR=ADDRESS)
    for n in range(3):
        assert _login(client, f"nobody{n}", "wrong").status_code == 200
    _assert_throttled(_login(client, "viewer", "pw-viewer-12345"), settings.LOGIN_FAILURE_WINDOW)
    assert _login(Client(REMOTE_ADDR="198.51.100.9"), "viewer", "pw-viewer-12345").status_code == 302


def test_it_forgets_a_username_s_failures_after_a_successful_login(settings):
    settings.LOGIN_FAILURES_PER_USERNAME = 2
    role_user("viewer")
    client = Client(REMOTE_ADDR=ADDRESS)
    assert _login(client, "viewer", "wrong").status_code == 200
    assert _login(client, "viewer", "pw-viewer-12345").status_code == 302
    client.logout()
    assert _login(client, "viewer", "wrong").status_code == 200
    assert _login(client, "viewer", "pw-viewer-12345").status_code == 302


# --- API tokens ---------------------------------------------------------------------------


def test_it_limits_failed_api_tokens_per_client_address(settings):
    settings.API_TOKEN_FAILURES_PER_IP = 3
    good = Token.objects.create(user=role_user("viewer")).key
    client = Client(REMOTE_ADDR=ADDRESS)
    for n in range(3):
        wrong = client.get("/api/operations/alerts", HTTP_AUTHORIZATION=f"Token {n:040d}")
        assert wrong.status_code == 401
    locked = client.get("/api/operations/alerts", HTTP_AUTHORIZATION=f"Token {good}")
    _assert_throttled(locked, settings.API_TOKEN_FAILURE_WINDOW)
    assert locked.json()["detail"].startswith("Too many failed token attempts.")
    other = Client(REMOTE_ADDR="198.51.100.9")
    assert other.get("/api/operations/alerts", HTTP_AUTHORIZATION=f"Token {good}").status_code == 200
    with _later(settings.API_TOKEN_FAILURE_WINDOW + 1):
        assert client.get("/api/operations/alerts", HTTP_AUTHORIZATION=f"Token {good}").status_code == 200
