"""Two-factor sign-in in Chromium: a TOTP code, a recovery code, enrolling an authenticator app
from its QR page, and a passkey registered and used through a virtual authenticator (Chrome
DevTools' WebAuthn domain, as a real platform authenticator with user verification)."""

import base64

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from config.mfa import services
from config.models import WebAuthnCredential
from tests.config.mfa_factories import code_now, recovery_codes, totp_device

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def operator(django_user_model):
    return django_user_model.objects.create_superuser("ops", "ops@example.com", PASSWORD)


def password_step(page) -> None:
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("ops")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def expect_console(page) -> None:
    expect(page.get_by_role("heading", name="Operations console")).to_be_visible()


def test_it_signs_in_with_a_code_from_the_authenticator_app(page, operator):
    device = totp_device(operator)
    password_step(page)
    expect(page.get_by_role("heading", name="Code from your authenticator app")).to_be_visible()
    page.goto("/admin/")  # nothing opens before the second step
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    password_step(page)
    page.get_by_label("Six-digit code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#two-factor-error")).to_contain_text("That code is not right")
    page.get_by_label("Six-digit code").fill(code_now(device))
    page.get_by_role("button", name="Verify").click()
    expect_console(page)


def test_it_signs_in_with_a_recovery_code(page, operator):
    totp_device(operator)
    code = recovery_codes(operator)[3]
    password_step(page)
    page.get_by_label("Six-digit code or a recovery code").fill(code)
    page.get_by_role("button", name="Verify").click()
    expect_console(page)
    expect(page.locator(".messagelist")).to_contain_text("recovery code; 9 left")


def test_it_enrols_an_authenticator_app_from_its_qr_page(page, operator):
    password_step(page)
    expect_console(page)
    page.get_by_role("link", name="Two-factor").click()
    page.get_by_label("Name:").first.fill("Work phone")
    page.get_by_role("button", name="Add an authenticator app").click()
    expect(page.locator("#totp-qr svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.get_by_label("The six-digit code").fill(f"{TOTP(key).token():06d}")
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".messagelist")).to_contain_text("“Work phone” is set up")
    assert services.has_second_factor(operator)


def test_it_registers_a_passkey_and_signs_in_with_it(page, operator):
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    password_step(page)
    expect_console(page)
    page.goto("/admin/two-factor/")
    page.locator("#id_key_name").fill("Laptop")
    page.get_by_role("button", name="Add a security key or passkey").click()
    expect(page.locator(".messagelist")).to_contain_text("Security key “Laptop” is set up")
    assert WebAuthnCredential.objects.filter(user=operator, name="Laptop").exists()

    page.get_by_role("button", name="Log out").click()
    password_step(page)
    page.get_by_role("button", name="Use my security key").click()
    expect_console(page)
    assert WebAuthnCredential.objects.get(user=operator).last_used_at is not None
