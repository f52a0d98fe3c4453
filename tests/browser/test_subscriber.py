"""A visitor subscribes, confirms, chooses components and unsubscribes in a real browser: the
subscriber pages' forms get through the cross-site check (subscriber_views._same_site_posts) and
the Content-Security-Policy (the page fixture fails on any violation)."""

import pytest
from playwright.sync_api import expect

from notifications.models import Delivery
from statuspage.services import component_create
from subscribers.models import Subscriber, SubscriberStatus

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_takes_a_visitor_from_subscribing_to_unsubscribing(page, live_server, settings):
    settings.PUBLIC_URL = live_server.url  # the pages link to each other with absolute URLs
    api = component_create(name="Public API")
    page.goto("/")
    page.get_by_label("E-mail address").fill("reader@example.com")
    page.get_by_role("button", name="Subscribe", exact=True).click()
    expect(page.get_by_role("main")).to_contain_text("Check your inbox")

    page.goto(Delivery.objects.get(recipient="reader@example.com").context["confirm_url"])
    page.get_by_role("button", name="Confirm subscription").click()
    expect(page.get_by_role("main")).to_contain_text("Subscription confirmed")
    subscriber = Subscriber.objects.get()
    assert subscriber.status == SubscriberStatus.CONFIRMED

    page.goto(subscriber.links()["manage_url"])
    page.get_by_label("Public API").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved")
    assert list(subscriber.components.all()) == [api]

    page.get_by_role("link", name="Unsubscribe from all mail").click()
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("main")).to_contain_text("You are unsubscribed")
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.UNSUBSCRIBED
