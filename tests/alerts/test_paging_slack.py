"""A person reached on Slack: their member id gets a code, then pages, as direct messages from
the Slack bot channel's app (a loopback server speaking Slack's Web API), with the alert's
action buttons."""

import re
from datetime import timedelta

import pytest
import time_machine

from alerts.services import alert_raise, alerts_escalate_due
from notifications.models import Channel, Delivery
from notifications.services import deliveries_send_due
from oncall.models import ContactMethod
from oncall.people import contact_method_check_code, contact_method_save, contact_method_send_code
from tests.alerts.paging import SUNDAY_3AM_BERLIN, on_call_world, rule_step
from tests.notifications.factories import ChannelFactory
from tests.notifications.provider_servers import Answer, ProviderServer

pytestmark = pytest.mark.django_db

BOT_TOKEN = "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOp"
MEMBER = "U024BE7LH"


@pytest.fixture
def slack(settings):
    server = ProviderServer(Answer.json(200, {"ok": True, "channel": "D024BE91L", "ts": "1.2"}))
    settings.SLACK_API_URL = server.url
    yield server
    server.stop()


@pytest.fixture
def bot(slack):
    # No conversation of its own: it sends people's direct messages only.
    return ChannelFactory(kind=Channel.Kind.SLACK_BOT, recipients="", token=BOT_TOKEN, destination="")


def verified_slack_method(user, slack) -> ContactMethod:
    method = contact_method_save(method=ContactMethod(user=user, kind="slack", address=MEMBER))
    contact_method_send_code(method=method)
    deliveries_send_due()
    text = slack.requests[-1]["json"]["blocks"][1]["text"]["text"]
    return contact_method_check_code(method=method, code=re.search(r"\b(\d{6})\b", text).group(1))


def test_a_member_id_is_verified_by_a_direct_message(bot, slack):
    world = on_call_world()
    method = verified_slack_method(world["alice"], slack)
    [request] = slack.requests
    assert request["json"]["channel"] == MEMBER
    assert request["headers"]["Authorization"] == f"Bearer {BOT_TOKEN}"
    assert method.verified_at is not None


def test_the_person_on_call_is_paged_by_direct_message_with_buttons(bot, slack):
    world = on_call_world()
    method = verified_slack_method(world["alice"], slack)
    rule_step(world["alice"], method, 0)
    with time_machine.travel(SUNDAY_3AM_BERLIN, tick=False):
        alert_raise(fingerprint="db", title="Database down", severity="critical", rule=world["rule"])
    with time_machine.travel(SUNDAY_3AM_BERLIN + timedelta(minutes=1), tick=False):
        alerts_escalate_due()
        deliveries_send_due()
    page = slack.requests[-1]["json"]
    assert page["channel"] == MEMBER and "Database down" in page["text"]
    buttons = [
        element for block in page["blocks"] if block["type"] == "actions" for element in block["elements"]
    ]
    assert {b["text"]["text"] for b in buttons} >= {"Acknowledge", "Resolve"}
    delivery = Delivery.objects.get(kind=Channel.Kind.SLACK_BOT, message__kind="alert.page")
    assert delivery.recipient == MEMBER and delivery.status == Delivery.Status.SENT


def test_without_a_slack_bot_channel_a_member_id_cannot_be_verified(slack):
    from oncall.people import ContactMethodError

    world = on_call_world()
    method = contact_method_save(method=ContactMethod(user=world["alice"], kind="slack", address=MEMBER))
    with pytest.raises(ContactMethodError, match="no enabled Slack bot channel"):
        contact_method_send_code(method=method)
    assert slack.requests == []


def sweep_queries(alerts: int, rule) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with time_machine.travel(SUNDAY_3AM_BERLIN, tick=False):
        for n in range(alerts):
            alert_raise(fingerprint=f"db-{alerts}-{n}", title="Database down", severity="critical", rule=rule)
    with (
        time_machine.travel(SUNDAY_3AM_BERLIN + timedelta(minutes=1), tick=False),
        CaptureQueriesContext(connection) as queries,
    ):
        alerts_escalate_due()
    return len(queries)


def test_the_sweep_reads_the_sending_channels_once_however_many_people_it_pages(bot, slack):
    world = on_call_world()
    method = verified_slack_method(world["alice"], slack)
    rule_step(world["alice"], method, 0)
    assert sweep_queries(2, world["rule"]) == sweep_queries(6, world["rule"])
