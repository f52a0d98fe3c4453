"""The on-call engineer opens the acknowledge link from a real alert mail (the suite's SMTP
server) on a phone-sized screen and presses the button: no script, the CSRF token and the
Content-Security-Policy all get through."""

import pytest
from playwright.sync_api import expect

from alerts.models import Alert, AlertEvent
from tests.alerts.factories import AlertFactory
from tests.alerts.mail_links import LINE, mail_text
from tests.alerts.mail_links import announce_and_mail as _announce
from tests.notifications.conftest import smtp  # noqa: F401  (the fixture)
from tests.notifications.factories import ChannelFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_acknowledges_from_the_mailed_link(page, live_server, settings, smtp):  # noqa: F811
    settings.PUBLIC_URL = live_server.url  # the mail's links point at this server
    ChannelFactory(recipients="oncall@example.com")
    alert = AlertFactory(title="Queue backlog", fingerprint="queue:backlog")
    _announce(smtp)
    url = dict(LINE.findall(mail_text(smtp.messages[-1])))["Acknowledge"]

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Acknowledge this alert?")
    assert Alert.objects.get(pk=alert.pk).status == "firing"  # opening the link changed nothing
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("status")).to_contain_text("Alert acknowledged")

    alert.refresh_from_db()
    assert alert.status == "acknowledged"
    event = alert.events.get(kind=AlertEvent.Kind.ACKNOWLEDGED)
    assert event.actor_name == "oncall@example.com (e-mail link)"
