"""Single sign-on in Chromium: the login page's button, the round trip through the loopback
identity provider (tests/config/oidc_provider.py) and back into the console, and the logout
that ends the session at the provider too."""

import re

import pytest
from playwright.sync_api import expect

from config.roles import sync_roles
from tests.config.oidc_provider import CLIENT_ID, CLIENT_SECRET, OidcProvider

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def provider(settings, live_server):
    provider = OidcProvider().start()
    settings.OIDC_ISSUER = provider.issuer
    settings.OIDC_CLIENT_ID = CLIENT_ID
    settings.OIDC_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_ROLE_MAP = {"vigil-ops": ("Operators",)}
    settings.OIDC_PROVIDER_NAME = "Acme SSO"
    # The callback the provider sends the browser to is under PUBLIC_URL.
    settings.PUBLIC_URL = live_server.url
    sync_roles()  # a transactional test starts from empty tables
    yield provider
    provider.stop()


def test_it_signs_in_through_the_provider_and_out_again(page, provider):
    page.goto("/admin/login/")
    page.get_by_role("link", name="Sign in with Acme SSO").click()
    expect(page.get_by_role("heading", name="Operations console")).to_be_visible()
    assert "/authorize" in provider.requests
    expect(page.locator("#user-tools")).to_contain_text("alice")

    page.get_by_role("button", name="Log out").click()
    # Through the provider's end_session_endpoint and back to Vigil's login page.
    expect(page.get_by_role("link", name="Sign in with Acme SSO")).to_be_visible()
    assert len(provider.logouts) == 1
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/admin/$"))


def test_it_shows_why_an_expired_token_is_refused(page, provider):
    provider.expired = True
    page.goto("/admin/login/")
    page.get_by_role("link", name="Sign in with Acme SSO").click()
    expect(page.locator(".errornote")).to_contain_text("has expired")
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/"))
