"""A staff user runs an incident from the admin; after each step the public page shows it."""

import time

import pytest
from playwright.sync_api import expect

from statuspage.models import Incident
from statuspage.services import component_create

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def operator(django_user_model):
    return django_user_model.objects.create_superuser("ops", "ops@example.com", PASSWORD)


def log_in(page):
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("ops")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Operations console")).to_be_visible()


def post_update(page, status_label: str, message: str) -> None:
    page.locator("#id_update_status").select_option(label=status_label)
    page.locator("#id_update_message").fill(message)
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("successfully")


def public_page_says(page, text: str, path: str = "/") -> None:
    """Like a visitor pressing reload: public pages may be cached for a second or two
    (Cache-Control max-age, the per-process page cache), so look again until a deadline."""
    public = page.context.new_page()
    deadline = time.monotonic() + 5
    while True:
        public.goto(path)
        if text in public.get_by_role("main").inner_text() or time.monotonic() > deadline:
            break
        public.wait_for_timeout(500)
    expect(public.get_by_role("main")).to_contain_text(text)
    public.close()


def test_it_lets_staff_run_an_incident_that_the_public_page_follows(page, operator):
    component_create(name="Checkout")
    log_in(page)

    page.goto("/admin/statuspage/incident/add/")
    page.get_by_label("Title").fill("Checkout failures")
    page.locator("#id_affected_from").select_option(label="Checkout")
    page.locator("#id_affected_add").click()  # the admin's "Choose" arrow
    page.locator("#id_component_status").select_option(label="Major outage")
    post_update(page, "Investigating", "Payments are failing at checkout.")
    incident = Incident.objects.get(title="Checkout failures")
    public_page_says(page, "Major System Outage")
    public_page_says(page, "Payments are failing at checkout.", f"/incidents/{incident.pk}")

    post_update(page, "Identified", "A bad deploy; rolling back.")
    public_page_says(page, "A bad deploy; rolling back.", f"/incidents/{incident.pk}")

    post_update(page, "Resolved", "Checkout works again.")
    public_page_says(page, "All Systems Operational")
    public_page_says(page, "Checkout works again.", f"/incidents/{incident.pk}")
