"""The whole on-call path in Chromium: a critical alert at 03:00 on a Sunday in Europe/Berlin pages
the night rotation's person by their rules, climbs to the secondary schedule after the wait, and
stops when the secondary acknowledges through the link in the mail they received."""

from datetime import timedelta

import pytest
import time_machine
from playwright.sync_api import expect

from alerts.models import Alert, AlertEvent
from alerts.services import alert_raise, alerts_escalate_due
from notifications.models import Delivery
from notifications.services import deliveries_send_due
from tests.alerts.mail_links import LINE, mail_text
from tests.alerts.paging import SUNDAY_3AM_BERLIN, on_call_world
from tests.notifications.conftest import ntfy, smtp  # noqa: F401  (the fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


def sweep_at(minutes: float):
    with time_machine.travel(SUNDAY_3AM_BERLIN + timedelta(minutes=minutes), tick=False):
        alerts_escalate_due()
        deliveries_send_due()


def mails_to(recorder, address: str) -> list:
    pairs = zip(recorder.messages, recorder.envelopes, strict=True)
    return [mail for mail, (_, recipients) in pairs if address in recipients]


def test_a_sunday_night_page_climbs_then_stops_on_the_mailed_link(page, live_server, settings, smtp, ntfy):  # noqa: F811
    settings.PUBLIC_URL = live_server.url  # the mails' links point at this server
    world = on_call_world()
    with time_machine.travel(SUNDAY_3AM_BERLIN, tick=False):
        alert = alert_raise(
            fingerprint="db", title="Database down", severity="critical", rule=world["rule"]
        ).alert
    sweep_at(1)
    assert [r for _, r in smtp.envelopes] == [["alice@example.com"]]  # the night rotation, by e-mail first
    sweep_at(3)
    assert len(ntfy.requests) == 1  # then her push, 2 minutes after the page
    sweep_at(11)  # nobody answered: level 2, the secondary schedule
    [carols_mail] = mails_to(smtp, "carol@example.com")
    url = dict(LINE.findall(mail_text(carols_mail)))["Acknowledge"]

    with time_machine.travel(SUNDAY_3AM_BERLIN + timedelta(minutes=12), tick=True):
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(url)
        expect(page.get_by_role("heading", level=1)).to_contain_text("Acknowledge this alert?")
        page.get_by_role("button", name="Acknowledge").click()
        expect(page.get_by_role("status")).to_contain_text("Alert acknowledged")

    alert.refresh_from_db()
    assert alert.status == Alert.Status.ACKNOWLEDGED
    assert alert.events.filter(kind=AlertEvent.Kind.ACKNOWLEDGED).count() == 1
    sent_before = len(smtp.envelopes), len(ntfy.requests)
    sweep_at(60)  # the acknowledgement stopped every pending page: nothing more goes out
    assert (len(smtp.envelopes), len(ntfy.requests)) == sent_before
    assert not Delivery.objects.filter(status=Delivery.Status.PENDING, message__kind="alert.page").exists()
