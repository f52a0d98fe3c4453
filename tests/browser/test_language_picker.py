"""The language picker in Chromium: choosing a language reloads the page in it (scripts submit
the form on change), the choice sticks across pages, and local times follow the page's language."""

import pytest
from playwright.sync_api import expect

from statuspage.services import component_create, incident_create

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_visitor_picks_german_and_the_pages_stay_german(page):
    component_create(name="Website")
    incident_create(title="API down", message="Looking into it.")
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Change language")).to_be_hidden()  # scripts submit on change
    page.get_by_label("Language").select_option("de")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", name="Frühere Störungen")).to_be_visible()
    expect(page.get_by_label("Sprache")).to_have_value("de")
    page.get_by_role("link", name="API down").first.click()
    expect(page.get_by_role("main")).to_contain_text("Wird untersucht")
    expect(page.get_by_role("main")).to_contain_text("Verlauf")
    page.get_by_label("Sprache").select_option("fr")
    expect(page.get_by_role("main")).to_contain_text("Analyse en cours")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
