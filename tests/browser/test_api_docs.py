"""The API docs render under their Content-Security-Policy (the page fixture fails the test on
any violation Chromium reports)."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_renders_swagger_ui(page):
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Vigil API")
    expect(page.get_by_text("/api/operations/alerts").first).to_be_visible()


def test_it_renders_redoc(page):
    page.goto("/api/redoc/")
    expect(page.get_by_role("heading", name="Vigil API").first).to_be_visible()
    expect(page.get_by_text("/api/operations/alerts").first).to_be_attached()
