"""Live updates in Chromium: an open status page and the console follow a change without a reload."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from statuspage.models import ComponentStatus
from statuspage.services import component_create, component_set_status
from tests.alerts.factories import AlertFactory

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct-horse-battery-staple"


def _mark_the_document(page) -> None:
    # A reload would lose this; swapping regions in place keeps it.
    page.evaluate("window.__notReloaded = true")


def _still_the_same_document(page) -> bool:
    return page.evaluate("window.__notReloaded === true")


def test_an_open_page_shows_a_status_change_within_seconds(page, settings):
    settings.STATUSPAGE_LIVE_POLL_SECONDS = 1
    api = component_create(name="Public API")
    page.goto("/")
    expect(page.locator("[data-live=banner]")).to_contain_text("All Systems Operational")
    _mark_the_document(page)
    component_set_status(component=api, status=ComponentStatus.MAJOR_OUTAGE)
    expect(page.locator("[data-live=banner]")).to_contain_text("Major System Outage", timeout=8_000)
    expect(page.locator("[data-live=components]")).to_contain_text("Major outage")
    assert _still_the_same_document(page)


def test_the_event_stream_brings_the_change_when_polling_is_slow(page, settings):
    settings.STATUSPAGE_LIVE_POLL_SECONDS = 600
    settings.STATUSPAGE_STREAM = True
    settings.STATUSPAGE_STREAM_MAX_SECONDS = 30
    api = component_create(name="Public API")
    page.goto("/")
    expect(page.locator("body")).to_have_attribute("data-live-stream", "/api/status/stream")
    page.wait_for_timeout(500)  # the EventSource connects
    _mark_the_document(page)
    component_set_status(component=api, status=ComponentStatus.PARTIAL_OUTAGE)
    expect(page.locator("[data-live=banner]")).to_contain_text("Partial System Outage", timeout=8_000)
    assert _still_the_same_document(page)


def test_the_console_refreshes_its_panels_in_place(page, settings, django_user_model):
    settings.DASHBOARD_REFRESH_SECONDS = 1
    user = django_user_model.objects.create_user("olive", "olive@example.com", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Operators"))
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("olive")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#vigil-alerts")).to_contain_text("No open alerts.")
    _mark_the_document(page)
    AlertFactory(severity="critical", title="Disk almost full")
    expect(page.locator("#vigil-alerts")).to_contain_text("Disk almost full", timeout=8_000)
    assert _still_the_same_document(page)
