"""The login's second step: TOTP codes, recovery codes, security keys, throttling, sessions that
skipped the step, single sign-on, and roles that must enrol."""

import json

import pytest
import time_machine
from django.test import Client
from webauthn.helpers import bytes_to_base64url

from config.mfa import AUTH_METHOD
from tests.config.factories import role_user
from tests.config.mfa_factories import (
    SoftAuthenticator,
    code_now,
    form_client,
    password_step,
    recovery_codes,
    totp_device,
)

pytestmark = pytest.mark.django_db

VERIFY = "/admin/login/verify/"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def operator():
    return role_user("operator")


def _signed_in(client: Client) -> bool:
    return client.get("/admin/").status_code == 200


def test_it_asks_for_the_second_step_before_the_admin_opens(operator):
    totp_device(operator)
    client = form_client()
    response = password_step(client, "operator", "pw-operator-12345")
    assert response.status_code == 302 and response["Location"] == VERIFY
    assert client.get("/admin/").status_code == 302
    assert client.get("/api/operations/alerts").status_code in (401, 403)


def test_it_signs_in_with_a_totp_code(operator):
    device = totp_device(operator)
    client = form_client()
    password_step(client, "operator", "pw-operator-12345")
    response = client.post(VERIFY, {"code": code_now(device)})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.session[AUTH_METHOD] == "password+totp"
    assert _signed_in(client)


def test_it_refuses_a_wrong_code(operator):
    totp_device(operator)
    client = form_client()
    password_step(client, "operator", "pw-operator-12345")
    response = client.post(VERIFY, {"code": "000000"})
    assert b"That code is not right" in response.content
    assert not _signed_in(client)


@time_machine.travel("2026-12-04 12:00:05", tick=False)
def test_it_refuses_a_code_used_already(operator):
    device = totp_device(operator)
    first = form_client()
    password_step(first, "operator", "pw-operator-12345")
    assert first.post(VERIFY, {"code": code_now(device)}).status_code == 302
    second = form_client()
    password_step(second, "operator", "pw-operator-12345")
    assert b"used already" in second.post(VERIFY, {"code": code_now(device)}).content
    assert not _signed_in(second)


def test_it_refuses_the_second_step_without_the_csrf_token(operator):
    device = totp_device(operator)
    client = form_client()
    password_step(client, "operator", "pw-operator-12345")
    assert client.post(VERIFY, {"code": code_now(device)}, HTTP_X_CSRFTOKEN="").status_code == 403
    assert not _signed_in(client)


def test_it_signs_in_with_a_recovery_code_once(operator):
    totp_device(operator)
    code = recovery_codes(operator)[0]
    client = form_client()
    password_step(client, "operator", "pw-operator-12345")
    assert client.post(VERIFY, {"code": code.upper()}).status_code == 302
    assert client.session[AUTH_METHOD] == "password+recovery"
    again = form_client()
    password_step(again, "operator", "pw-operator-12345")
    assert b"used already" in again.post(VERIFY, {"code": code}).content


def test_it_sends_a_verify_page_without_a_password_step_to_the_login():
    response = form_client().get(VERIFY)
    assert response.status_code == 302 and response["Location"] == "/admin/login/"


def test_it_throttles_wrong_codes_per_user_even_for_the_right_code(operator, settings):
    settings.LOGIN_FAILURES_PER_USERNAME = 3
    device = totp_device(operator)
    for n in range(3):
        client = form_client(REMOTE_ADDR=f"198.51.100.{n}")
        password_step(client, "operator", "pw-operator-12345")
        assert client.post(VERIFY, {"code": "000000"}).status_code == 200
    client = form_client(REMOTE_ADDR="198.51.100.9")
    password_step(client, "operator", "pw-operator-12345")
    response = client.post(VERIFY, {"code": code_now(device)})
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= settings.LOGIN_FAILURE_WINDOW
    assert not _signed_in(client)


def test_it_throttles_wrong_codes_per_address(operator, settings):
    settings.THROTTLE_EXEMPT_IPS = []
    settings.LOGIN_FAILURES_PER_IP = 2
    totp_device(operator)
    client = form_client(REMOTE_ADDR="198.51.100.7")
    password_step(client, "operator", "pw-operator-12345")
    for _ in range(2):
        client.post(VERIFY, {"code": "000000"})
    assert client.post(VERIFY, {"code": "000000"}).status_code == 429


def test_it_signs_in_a_user_without_a_device_with_the_password_alone(operator):
    client = form_client()
    assert password_step(client, "operator", "pw-operator-12345")["Location"] == "/admin/"
    assert client.session[AUTH_METHOD] == "password"
    assert _signed_in(client)


def test_it_signs_out_a_session_that_skipped_the_second_step(operator):
    totp_device(operator)
    client = Client()
    client.force_login(operator)
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


def test_it_treats_a_single_sign_on_session_as_strong(operator, settings):
    totp_device(operator)
    settings.MFA_REQUIRED_ROLES = ["Operators"]
    client = Client()
    client.force_login(operator)
    session = client.session
    session[AUTH_METHOD] = "oidc"
    session.save()
    assert _signed_in(client)


def test_it_sends_a_required_role_without_a_device_to_enrol(operator, settings):
    settings.MFA_REQUIRED_ROLES = ["Operators"]
    client = form_client()
    password_step(client, "operator", "pw-operator-12345")
    assert client.get("/admin/statuspage/incident/")["Location"] == "/admin/two-factor/"
    assert client.get("/admin/two-factor/").status_code == 200
    assert client.get("/api/operations/alerts").status_code in (401, 403)


def test_it_leaves_roles_not_required_alone(settings):
    settings.MFA_REQUIRED_ROLES = ["Administrators"]
    role_user("operator")
    client = form_client()
    password_step(client, "operator", "pw-operator-12345")
    assert _signed_in(client)


def test_it_counts_a_superuser_as_an_administrator(settings):
    settings.MFA_REQUIRED_ROLES = ["Administrators"]
    role_user("superuser")
    client = form_client()
    password_step(client, "root", "pw-root-12345")
    assert client.get("/admin/")["Location"] == "/admin/two-factor/"


def test_it_leaves_api_keys_alone(operator, settings):
    from config.api_keys import api_key_create

    settings.MFA_REQUIRED_ROLES = ["Operators"]
    _, raw = api_key_create(user=operator, name="deploy", scopes=["read"])
    response = Client().get("/api/operations/alerts", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200


# --- security keys -----------------------------------------------------------------------


def _register(client: Client, authenticator: SoftAuthenticator, name: str = "YubiKey"):
    options = client.post("/admin/two-factor/webauthn/options").json()
    body = {"name": name, "credential": authenticator.register(options)}
    return client.post(
        "/admin/two-factor/webauthn/register", json.dumps(body), content_type="application/json"
    )


def _key_step(client: Client, authenticator: SoftAuthenticator):
    options = client.post("/admin/login/verify/webauthn/options").json()
    body = {"credential": authenticator.authenticate(options)}
    return client.post("/admin/login/verify/webauthn", json.dumps(body), content_type="application/json")


def test_it_signs_in_with_a_security_key(operator):
    authenticator = SoftAuthenticator()
    client = form_client()
    password_step(client, "operator", "pw-operator-12345")
    assert _register(client, authenticator).status_code == 200
    client = form_client()
    assert password_step(client, "operator", "pw-operator-12345")["Location"] == VERIFY
    response = _key_step(client, authenticator)
    assert response.status_code == 200 and response.json() == {"redirect": "/admin/"}
    assert client.session[AUTH_METHOD] == "password+webauthn"
    assert _signed_in(client)


def test_it_uses_a_key_challenge_once(operator):
    authenticator = SoftAuthenticator()
    client = form_client()
    password_step(client, "operator", "pw-operator-12345")
    _register(client, authenticator)
    client = form_client()
    password_step(client, "operator", "pw-operator-12345")
    options = client.post("/admin/login/verify/webauthn/options").json()
    answer = json.dumps({"credential": authenticator.authenticate(options)})
    assert (
        client.post("/admin/login/verify/webauthn", answer, content_type="application/json").status_code
        == 200
    )
    client.post("/admin/logout/")
    password_step(client, "operator", "pw-operator-12345")
    response = client.post("/admin/login/verify/webauthn", answer, content_type="application/json")
    assert response.status_code == 400
    assert "expired or was used" in response.json()["detail"]


def test_it_refuses_a_key_of_another_user(operator):
    theirs = SoftAuthenticator()
    client = form_client()
    password_step(client, "operator", "pw-operator-12345")
    _register(client, theirs)
    role_user("viewer")
    client = form_client()
    password_step(client, "viewer", "pw-viewer-12345")
    _register(client, SoftAuthenticator())
    client = form_client()
    password_step(client, "viewer", "pw-viewer-12345")
    options = client.post("/admin/login/verify/webauthn/options").json()
    options["allowCredentials"].append({"id": bytes_to_base64url(theirs.credential_id)})
    body = json.dumps({"credential": theirs.authenticate(options)})
    response = client.post("/admin/login/verify/webauthn", body, content_type="application/json")
    assert response.status_code == 400
    assert not _signed_in(client)


@pytest.mark.parametrize(
    "credential",
    [
        {"response": 3},
        {"rawId": 5, "type": "public-key", "response": {"clientDataJSON": "!!"}},
        {"rawId": "AA", "type": "public-key", "response": []},
        {"rawId": "AA", "type": "public-key", "response": {"clientDataJSON": "e30", "signature": 7}},
    ],
)
def test_it_answers_a_malformed_key_answer_with_400(operator, credential):
    authenticator = SoftAuthenticator()
    client = form_client()
    password_step(client, "operator", "pw-operator-12345")
    _register(client, authenticator)
    client = form_client()
    password_step(client, "operator", "pw-operator-12345")
    for body in ("not json", json.dumps([1]), json.dumps({"credential": {"id": "x", **credential}})):
        client.post("/admin/login/verify/webauthn/options")
        response = client.post("/admin/login/verify/webauthn", body, content_type="application/json")
        assert response.status_code == 400, body
        assert response.json()["detail"]
    client.post("/admin/login/verify/webauthn/options")
    body = json.dumps({"credential": {"id": bytes_to_base64url(authenticator.credential_id), **credential}})
    response = client.post("/admin/login/verify/webauthn", body, content_type="application/json")
    assert response.status_code == 400
    assert "could not be verified" in response.json()["detail"]


def test_it_binds_keys_to_the_configured_relying_party(operator, settings):
    settings.WEBAUTHN_RP_ID = "status.example.com"
    settings.WEBAUTHN_ORIGINS = ["https://status.example.com"]
    client = form_client()
    password_step(client, "operator", "pw-operator-12345")
    assert _register(client, SoftAuthenticator()).status_code == 400  # testserver is not the party
    right = SoftAuthenticator(origin="https://status.example.com", rp_id="status.example.com")
    assert _register(client, right).status_code == 200


def test_it_refuses_a_registration_challenge_for_signing_in(operator):
    authenticator = SoftAuthenticator()
    client = form_client()
    password_step(client, "operator", "pw-operator-12345")
    _register(client, authenticator)
    client = form_client()
    password_step(client, "operator", "pw-operator-12345")
    options = client.post("/admin/login/verify/webauthn/options").json()
    session = client.session
    session["vigil_webauthn_challenge"]["purpose"] = "register"
    session.save()
    body = json.dumps({"credential": authenticator.authenticate(options)})
    response = client.post("/admin/login/verify/webauthn", body, content_type="application/json")
    assert response.status_code == 400 and "expired or was used" in response.json()["detail"]


def test_it_answers_a_form_body_on_the_key_step_with_400(operator):
    client = form_client()
    password_step(client, "operator", "pw-operator-12345")
    _register(client, SoftAuthenticator())
    client = form_client()
    password_step(client, "operator", "pw-operator-12345")
    response = client.post("/admin/login/verify/webauthn", {"credential": "x"})
    assert response.status_code == 400 and "as JSON" in response.json()["detail"]
