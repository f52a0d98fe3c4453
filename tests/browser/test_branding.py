"""The branded page in Chromium, under the site's Content-Security-Policy: the accent colour
and the logo show, and the page fixture fails the test on any CSP violation."""

import pytest
from playwright.sync_api import expect

from statuspage.services import branding_update, component_create
from tests.statuspage.branding_helpers import PIXEL_COLOUR, picture, upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def branded(media):
    component_create(name="Website")
    return branding_update(
        values={
            "page_title": "Acme Cloud Status",
            "accent_colour": "#0a7c66",
            "custom_css": ".banner { border-radius: 0; }",
            "logo": upload(picture(size=(60, 30))),
            "footer_links": [{"label": "Acme home", "url": "https://acme.example/"}],
        }
    )


def test_it_colours_the_subscribe_button_with_the_accent(page, branded):
    page.goto("/")
    expect(page.get_by_role("button", name="Subscribe", exact=True)).to_have_css(
        "background-color", "rgb(10, 124, 102)"
    )


def test_it_applies_the_custom_css(page, branded):
    page.goto("/")
    expect(page.locator(".banner")).to_have_css("border-top-left-radius", "0px")


def test_it_shows_the_uploaded_logo(page, branded):
    page.goto("/")
    logo = page.locator("img.brand__logo")
    expect(logo).to_be_visible()
    assert logo.evaluate("img => img.complete && img.naturalWidth") == 60


def test_it_draws_the_logo_in_its_own_colours(page, branded):
    page.goto("/")
    colour = page.locator("img.brand__logo").evaluate(
        """img => { const c = document.createElement('canvas'); c.width = c.height = 1;
        const g = c.getContext('2d'); g.drawImage(img, 0, 0);
        return Array.from(g.getImageData(0, 0, 1, 1).data.slice(0, 3)); }"""
    )
    assert tuple(colour) == PIXEL_COLOUR


def test_it_shows_the_title_and_footer_link(page, branded):
    page.goto("/")
    expect(page).to_have_title("Acme Cloud Status")
    expect(page.get_by_role("link", name="Acme home")).to_have_attribute("href", "https://acme.example/")
