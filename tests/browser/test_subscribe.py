"""A visitor subscribes from the status page, confirms from the mail, hears about an incident and
unsubscribes from the link in that mail: every step in Chromium, every mail through a real SMTP
server on loopback, sent by the outbox's sweeper as the send_due_deliveries beat job would."""

import re

import pytest
from playwright.sync_api import expect

from notifications.services import deliveries_send_due
from statuspage.models import ComponentStatus
from statuspage.services import component_create, incident_create
from subscribers.models import Subscriber, SubscriberStatus
from tests.notifications.servers import start_smtp

pytestmark = pytest.mark.django_db(transaction=True)
ADDRESS = "visitor@example.com"


@pytest.fixture
def smtp(settings, live_server):
    controller, recorder = start_smtp()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.PUBLIC_URL = live_server.url  # the links in the mail lead back to this server
    yield recorder
    controller.stop()


def only_mail(smtp, subject_start: str):
    deliveries_send_due()
    mails = [m for m in smtp.messages if m["To"] == ADDRESS and m["Subject"].startswith(subject_start)]
    assert len(mails) == 1, [m["Subject"] for m in smtp.messages]
    return mails[0]


def link(mail, path: str) -> str:
    """The first link in the mail's text part whose path starts with `path`."""
    text = mail.get_body(("plain",)).get_content()
    match = re.search(rf"(http://[^/\s]+{re.escape(path)}\S*)", text)
    assert match, f"no {path} link in:\n{text}"
    return match.group(1)


def test_a_visitor_subscribes_confirms_hears_of_an_incident_and_unsubscribes(page, smtp):
    api = component_create(name="Public API")
    page.goto("/")
    page.get_by_role("link", name="Subscribe to updates").click()
    page.get_by_label("E-mail address").fill(ADDRESS)
    page.get_by_role("button", name="Subscribe", exact=True).click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    assert Subscriber.objects.get(email=ADDRESS).status == SubscriberStatus.PENDING

    confirmation = only_mail(smtp, "Confirm your subscription")
    page.goto(link(confirmation, "/api/status/confirm/"))
    expect(page.get_by_role("heading", name="Confirm your subscription")).to_be_visible()
    assert Subscriber.objects.get(email=ADDRESS).status == SubscriberStatus.PENDING  # a GET does not confirm
    page.get_by_role("button", name="Confirm subscription").click()
    expect(page.get_by_role("heading", name="Subscription confirmed")).to_be_visible()
    assert Subscriber.objects.get(email=ADDRESS).status == SubscriberStatus.CONFIRMED

    incident = incident_create(
        title="Login failures",
        message="Some sign-ins fail; we are investigating.",
        components={api: ComponentStatus.MAJOR_OUTAGE},
    )
    announcement = only_mail(smtp, "[Investigating] Login failures")
    page.goto(link(announcement, "/incidents/"))
    expect(page).to_have_url(re.compile(rf"/incidents/{incident.pk}$"))
    expect(page.get_by_role("main")).to_contain_text("Some sign-ins fail; we are investigating.")

    page.goto(link(announcement, "/api/status/unsubscribe/"))
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    assert Subscriber.objects.get(email=ADDRESS).status == SubscriberStatus.UNSUBSCRIBED
