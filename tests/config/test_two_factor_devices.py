"""Each user's Two-factor page: adding a TOTP app (confirmed by a code), recovery codes (shown
once, kept as digests, one use each), removing a device (password or code first), and an
Administrator's reset of another user's devices (audit entry)."""

import re
import time

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.mfa import AUTH_METHOD, services
from config.models import AuditEntry
from tests.config.factories import role_user
from tests.config.mfa_factories import code_now, form_client, password_step, recovery_codes, totp_device

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def signed_in():
    role_user("operator")
    client = form_client()
    password_step(client, "operator", "pw-operator-12345")
    return client


@pytest.fixture
def two_step():
    """Signed in with a password and a code: devices added now do not sign the session out."""
    device = totp_device(role_user("operator"), name="Phone")
    client = form_client()
    password_step(client, "operator", "pw-operator-12345")
    client.post("/admin/login/verify/", {"code": code_now(device)})
    return client


def _operator():
    return get_user_model().objects.get(username="operator")


def _add_totp(client) -> TOTPDevice:
    response = client.post("/admin/two-factor/totp/add", {"name": "Phone"})
    device = TOTPDevice.objects.get(user=_operator())
    assert response["Location"] == f"/admin/two-factor/totp/{device.pk}/confirm"
    return device


def test_it_shows_the_secret_and_qr_code_until_the_app_is_confirmed(signed_in):
    device = _add_totp(signed_in)
    page = signed_in.get(f"/admin/two-factor/totp/{device.pk}/confirm")
    assert b"<svg" in page.content
    assert services.totp_secret(device).encode() in page.content
    assert not services.has_second_factor(_operator())
    signed_in.post(f"/admin/two-factor/totp/{device.pk}/confirm", {"code": code_now(device)})
    assert services.has_second_factor(_operator())
    assert signed_in.get(f"/admin/two-factor/totp/{device.pk}/confirm").status_code == 404


def test_it_confirms_an_app_only_with_its_code(signed_in):
    device = _add_totp(signed_in)
    response = signed_in.post(f"/admin/two-factor/totp/{device.pk}/confirm", {"code": "123456"})
    assert b"That code is not right" in response.content
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed


def test_it_upgrades_the_enrolling_session(signed_in):
    device = _add_totp(signed_in)
    signed_in.post(f"/admin/two-factor/totp/{device.pk}/confirm", {"code": code_now(device)})
    assert signed_in.session[AUTH_METHOD] == "password+totp"
    assert signed_in.get("/admin/").status_code == 200


def test_it_refuses_adding_an_app_without_the_csrf_token(signed_in):
    response = signed_in.post("/admin/two-factor/totp/add", {"name": "Phone"}, HTTP_X_CSRFTOKEN="")
    assert response.status_code == 403
    assert not TOTPDevice.objects.exists()


def test_it_makes_ten_recovery_codes_shown_once_and_stored_as_digests(two_step):
    response = two_step.post("/admin/two-factor/recovery-codes")
    codes = re.findall(r"<code>([a-z2-7-]{19})</code>", response.content.decode())
    assert len(codes) == 10
    assert response["Cache-Control"].startswith("max-age=0")
    stored = set(StaticToken.objects.values_list("token", flat=True))
    assert len(stored) == 10 and not stored & {c.replace("-", "") for c in codes}


def test_it_lists_how_many_recovery_codes_are_left(two_step):
    user = _operator()
    code = recovery_codes(user)[0]
    assert services.recovery_code_use(user=user, code=code)
    assert b"9 unused recovery codes" in two_step.get("/admin/two-factor/").content


def test_it_refuses_recovery_codes_without_an_app_or_key(signed_in):
    response = signed_in.post("/admin/two-factor/recovery-codes", follow=True)
    assert b"Add an authenticator app or a security key first" in response.content
    assert not StaticToken.objects.exists()


def test_it_replaces_old_recovery_codes(signed_in):
    user = _operator()
    totp_device(user)
    old = recovery_codes(user)
    recovery_codes(user)
    assert not services.recovery_code_use(user=user, code=old[0])
    assert services.recovery_codes_left(user) == 10


def test_it_removes_a_device_only_after_the_password_or_a_code(two_step):
    device = totp_device(_operator(), name="Old phone")
    url = f"/admin/two-factor/totp/{device.pk}/remove"
    response = two_step.post(url, {"confirm": "wrong"}, follow=True)
    assert b"Nothing was removed" in response.content
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    two_step.post(url, {"confirm": "pw-operator-12345"})
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()


def test_it_takes_the_recovery_codes_with_the_last_device(two_step):
    user = _operator()
    device = TOTPDevice.objects.get(user=user)
    recovery_codes(user)
    two_step.post(f"/admin/two-factor/totp/{device.pk}/remove", {"confirm": "pw-operator-12345"})
    assert services.recovery_codes_left(user) == 0


def test_it_removes_only_the_users_own_devices(signed_in):
    theirs = totp_device(role_user("viewer"))
    response = signed_in.post(f"/admin/two-factor/totp/{theirs.pk}/remove", {"confirm": "pw-operator-12345"})
    assert response.status_code == 302
    assert TOTPDevice.objects.filter(pk=theirs.pk).exists()


def test_it_throttles_wrong_confirmations(two_step, settings):
    settings.LOGIN_FAILURES_PER_USERNAME = 2
    device = TOTPDevice.objects.get(user=_operator())
    url = f"/admin/two-factor/totp/{device.pk}/remove"
    for _ in range(2):
        two_step.post(url, {"confirm": "wrong"})
    response = two_step.post(url, {"confirm": "pw-operator-12345"})
    assert response.status_code == 429 and response["Retry-After"]
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_it_sends_anonymous_visitors_of_the_page_to_the_login():
    response = Client().get("/admin/two-factor/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


# --- an Administrator's reset ---------------------------------------------------------------


def _reset(client, user):
    data = {"action": "reset_two_factor", "_selected_action": [str(user.pk)], "index": "0"}
    return client.post("/admin/auth/user/", data)


def test_it_lets_an_administrator_reset_someones_devices_with_an_audit_entry():
    operator = role_user("operator")
    totp_device(operator)
    recovery_codes(operator)
    role_user("administrator")
    client = form_client()
    password_step(client, "administrator", "pw-administrator-12345")
    assert _reset(client, operator).status_code == 302
    assert not services.has_second_factor(operator) and services.recovery_codes_left(operator) == 0
    entry = AuditEntry.objects.get(object_id=str(operator.pk), content_type__model="user")
    assert entry.actor_name == "administrator"
    assert entry.changes["two_factor"] == [["TOTP: Phone", "recovery codes: 10 left"], []]


def test_it_does_not_offer_the_reset_to_an_operator(signed_in):
    viewer = role_user("viewer")
    totp_device(viewer)
    assert _reset(signed_in, viewer).status_code == 403
    assert services.has_second_factor(viewer)


def test_it_shows_who_has_two_factor_in_the_user_list():
    totp_device(role_user("operator"))
    role_user("administrator")
    client = form_client()
    password_step(client, "administrator", "pw-administrator-12345")
    page = client.get("/admin/auth/user/").content.decode()
    cells = re.findall(r'<td class="field-two_factor">(.*?)</td>', page)
    assert sorted('alt="True"' in cell for cell in cells) == [False, True]


def test_it_removes_a_device_after_a_current_code(two_step):
    user = _operator()
    old = totp_device(user, name="Old phone")
    phone = TOTPDevice.objects.get(user=user, name="Phone")
    with time_machine.travel(time.time() + 60, tick=False):  # the sign-in used this step's code
        two_step.post(f"/admin/two-factor/totp/{old.pk}/remove", {"confirm": code_now(phone)})
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()
