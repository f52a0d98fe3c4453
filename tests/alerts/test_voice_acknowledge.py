"""A voice channel's call reads the alert and offers "press 1 to acknowledge"; Twilio's signed
callback acknowledges it once, and a tampered, stale or replayed one changes nothing."""

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from twilio.request_validator import RequestValidator

from alerts.models import Alert, AlertEvent
from alerts.notify import alerts_pending_announce
from alerts.services import alert_raise, alerts_escalate_due
from notifications.models import Channel
from notifications.services import channel_send_test, deliveries_send_due
from tests.alerts.factories import AlertRuleFactory, escalation_step
from tests.notifications.provider_servers import HOSTILE_TITLE
from tests.notifications.twilio_fakes import ACCOUNT_SID, AUTH_TOKEN, ON_CALL, twilio_channel

pytestmark = pytest.mark.django_db
CALL_SID = "CA" + "2" * 32


def raise_and_call(twilio, title="Disk almost full on db-1", **channel_fields):
    channel = twilio_channel(kind=Channel.Kind.VOICE, **channel_fields)
    alert = alert_raise(fingerprint="disk:db-1", title=title, severity="critical").alert
    alerts_pending_announce()
    deliveries_send_due()
    return alert, channel, ET.fromstring(twilio.requests[-1]["form"]["Twiml"])


def press(url: str, digits: str = "1", *, token: str = AUTH_TOKEN, call_sid: str = CALL_SID, tamper=None):
    params = {"CallSid": call_sid, "AccountSid": ACCOUNT_SID, "To": ON_CALL, "Digits": digits}
    signature = RequestValidator(token).compute_signature(url, params)
    if tamper:
        params.update(tamper)
    path = url.split("://", 1)[1].split("/", 1)[1]
    client = Client(enforce_csrf_checks=True)
    return client.post("/" + path, params, HTTP_X_TWILIO_SIGNATURE=signature)


def test_it_places_a_call_whose_twiml_reads_the_alert_and_gathers_one_digit(twilio, settings):
    alert, channel, twiml = raise_and_call(twilio)
    request = twilio.requests[0]
    assert request["path"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
    assert request["form"]["To"] == ON_CALL
    gather = twiml.find("Gather")
    assert gather.get("numDigits") == "1" and gather.get("method") == "POST"
    path = f"/integrations/twilio/voice/{alert.pk}/{alert.escalation_token}/{channel.pk}"
    assert gather.get("action") == settings.PUBLIC_URL + path
    said = gather.find("Say").text
    assert "critical" in said and "Disk almost full on db-1" in said and "Press 1 to acknowledge" in said


def test_it_acknowledges_on_1_with_a_valid_signature(twilio):
    alert, channel, twiml = raise_and_call(twilio)
    response = press(twiml.find("Gather").get("action"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/xml")
    assert "acknowledged" in ET.fromstring(response.content).find("Say").text
    alert.refresh_from_db()
    assert alert.status == Alert.Status.ACKNOWLEDGED
    event = alert.events.get(kind=AlertEvent.Kind.ACKNOWLEDGED)
    assert event.actor_type == AlertEvent.Actor.CHANNEL
    assert ON_CALL in event.detail and channel.name in event.detail and CALL_SID in event.detail


@pytest.mark.parametrize(
    "forgery",
    [
        {"tamper": {"Digits": "1", "To": "+15005550006"}},  # a field changed after signing
        {"token": "0" * 32},  # signed with another account's token
    ],
)
def test_it_refuses_a_tampered_callback_with_403_and_changes_nothing(twilio, forgery):
    alert, _, twiml = raise_and_call(twilio)
    response = press(twiml.find("Gather").get("action"), **forgery)
    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.status == Alert.Status.FIRING and not alert.events.filter(kind="acknowledged").exists()


def test_it_refuses_a_callback_naming_a_channel_that_is_not_a_voice_channel(twilio):
    alert, channel, twiml = raise_and_call(twilio)
    channel.kind = Channel.Kind.SMS
    channel.save()
    assert press(twiml.find("Gather").get("action")).status_code == 403


def test_it_does_nothing_on_a_replayed_callback(twilio):
    alert, _, twiml = raise_and_call(twilio)
    url = twiml.find("Gather").get("action")
    assert press(url).status_code == 200
    alert.refresh_from_db()
    acknowledged_at = alert.acknowledged_at
    replay = press(url)
    assert replay.status_code == 200 and "Nothing was changed" in replay.content.decode()
    alert.refresh_from_db()
    assert alert.acknowledged_at == acknowledged_at and alert.events.filter(kind="acknowledged").count() == 1


def test_it_does_nothing_when_the_alert_changed_since_the_call(twilio):
    rule = AlertRuleFactory()
    step = escalation_step(rule, level=1, escalate_after_minutes=5)
    alert, channel, twiml = raise_and_call(twilio)
    step.channels.add(channel)
    Alert.objects.filter(pk=alert.pk).update(rule=rule, next_escalation_at=timezone.now())
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        assert alerts_escalate_due() == 1  # the token turns over: the first call is stale now
    response = press(twiml.find("Gather").get("action"))
    assert response.status_code == 200 and "Nothing was changed" in response.content.decode()
    alert.refresh_from_db()
    assert alert.status == Alert.Status.FIRING


def test_the_escalation_call_carries_the_token_the_alert_keeps(twilio):
    rule = AlertRuleFactory()
    step = escalation_step(rule, level=1, escalate_after_minutes=5)
    alert, channel, _ = raise_and_call(twilio)
    step.channels.add(channel)
    Alert.objects.filter(pk=alert.pk).update(rule=rule, next_escalation_at=timezone.now())
    alerts_escalate_due()
    deliveries_send_due()
    escalation = ET.fromstring(twilio.requests[-1]["form"]["Twiml"])
    assert press(escalation.find("Gather").get("action")).status_code == 200
    alert.refresh_from_db()
    assert alert.status == Alert.Status.ACKNOWLEDGED


def test_it_does_nothing_for_another_key(twilio):
    alert, _, twiml = raise_and_call(twilio)
    response = press(twiml.find("Gather").get("action"), digits="2")
    assert response.status_code == 200
    alert.refresh_from_db()
    assert alert.status == Alert.Status.FIRING


def test_it_answers_get_with_405(twilio):
    _, _, twiml = raise_and_call(twilio)
    path = "/" + twiml.find("Gather").get("action").split("://", 1)[1].split("/", 1)[1]
    assert Client().get(path).status_code == 405


def test_it_reads_a_hostile_title_as_inert_text(twilio):
    _, _, twiml = raise_and_call(twilio, title=HOSTILE_TITLE + " <Hangup/><Dial>+19005550100</Dial>")
    # The builder escaped it: one Gather with one Say, and no element the title tried to add.
    assert [element.tag for element in twiml.iter()] == ["Response", "Gather", "Say", "Say"]
    said = twiml.find("Gather").find("Say").text
    assert "<Hangup/>" in said and "<Dial>" in said and '"}, {"q":' in said


def test_a_test_call_reads_the_message_without_offering_a_key(twilio):
    channel = twilio_channel(kind=Channel.Kind.VOICE)
    channel_send_test(channel=channel)
    deliveries_send_due()
    twiml = ET.fromstring(twilio.requests[0]["form"]["Twiml"])
    assert twiml.find("Gather") is None and "This is Vigil" in twiml.find("Say").text
