"""A visitor reports trouble from the cached home page in a real browser (Chromium sends Origin)."""

import pytest
from playwright.sync_api import expect

from monitoring import counters
from monitoring.counters import flush_counters
from statuspage.services import component_create
from statuspage.visitor_reports import visitor_report_counts_last

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_takes_a_report_from_the_page_form_and_thanks_the_visitor(page):
    counters.aggregator.take()
    checkout = component_create(name="Checkout")
    component_create(name="Website")
    page.goto("/")
    page.goto("/")  # the cached copy, the same for everyone
    page.get_by_label("I'm having trouble with").select_option(label="Checkout")
    page.get_by_label("It's slow").check()
    page.get_by_role("button", name="Report the problem").click()
    expect(page.get_by_role("main")).to_contain_text("Thank you for telling us")
    flush_counters()
    assert visitor_report_counts_last(minutes=5) == {str(checkout.pk): 1}
