import re

import pytest
from playwright.sync_api import expect

from statuspage.models import ComponentStatus
from statuspage.services import component_create, incident_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def outage():
    api = component_create(name="Public API")
    component_create(name="Dashboard")
    return incident_create(
        title="Elevated API error rates",
        message="We are investigating errors on the public API.",
        components={api: ComponentStatus.PARTIAL_OUTAGE},
    )


def test_it_shows_a_visitor_the_outage_and_its_timeline(page, outage):
    page.goto("/")
    expect(page.get_by_role("main")).to_contain_text("Partial System Outage")
    expect(page.get_by_text("Public API").first).to_be_visible()
    expect(page.get_by_text("Partial outage").first).to_be_visible()
    page.get_by_role("link", name="Elevated API error rates").first.click()
    expect(page).to_have_url(re.compile(rf"/incidents/{outage.pk}$"))
    expect(page.get_by_role("main")).to_contain_text("We are investigating errors on the public API.")
    expect(page.get_by_role("main")).to_contain_text("Investigating")


def test_it_shows_all_systems_operational_when_nothing_is_wrong(page):
    component_create(name="Website")
    page.goto("/")
    expect(page.get_by_role("main")).to_contain_text("All Systems Operational")


def test_it_gives_the_uptime_bars_a_text_alternative_read_on_focus(page, outage):
    page.goto("/")
    bars = page.get_by_role("img", name=re.compile(r"^Uptime of Public API over the past 90 days"))
    expect(bars).to_have_count(1)
    expect(bars).to_have_accessible_name(re.compile("Partial outage"))
    bars.focus()
    expect(bars).to_be_focused()
    assert bars.bounding_box()["width"] > 300  # drawn across the row, not collapsed
