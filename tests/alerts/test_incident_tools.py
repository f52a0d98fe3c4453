"""An alert reaches PagerDuty and Opsgenie as one incident: trigger, acknowledge and resolve
under its fingerprint, whoever acknowledges it and whichever channels told of it."""

import pytest

from alerts.notify import alerts_pending_announce
from alerts.services import alert_acknowledge, alert_escalate, alert_raise, alert_resolve
from notifications.models import Channel, Delivery, Message
from notifications.services import deliveries_send_due
from tests.alerts.factories import AlertRuleFactory, ChannelFactory, escalation_step
from tests.notifications.incident_tool_servers import (
    GENIE_KEY,
    ROUTING_KEY,
    opsgenie_server,
    pagerduty_server,
)
from tests.notifications.provider_servers import Answer, ProviderServer, send_twice

pytestmark = pytest.mark.django_db


@pytest.fixture
def pagerduty(settings):
    server = pagerduty_server()
    settings.PAGERDUTY_EVENTS_URL = server.url
    yield server
    server.stop()


@pytest.fixture
def opsgenie(settings):
    server = opsgenie_server()
    settings.OPSGENIE_API_URL = server.url
    yield server
    server.stop()


def pagerduty_channel(**fields):
    return ChannelFactory(kind=Channel.Kind.PAGERDUTY, **{"token": ROUTING_KEY, **fields})


def opsgenie_channel(**fields):
    return ChannelFactory(kind=Channel.Kind.OPSGENIE, token=GENIE_KEY, **fields)


def fire(fingerprint="disk:db-1", **fields):
    alert = alert_raise(
        fingerprint=fingerprint, title="Disk full on db-1", severity="critical", **fields
    ).alert
    alerts_pending_announce()
    deliveries_send_due()
    return alert


def acknowledge(alert, **fields):
    alert_acknowledge(alert=alert, **fields)
    deliveries_send_due()


def resolve(alert):
    alert_resolve(alert=alert)
    alerts_pending_announce()
    deliveries_send_due()


def events(server: ProviderServer) -> list[tuple[str, str]]:
    return [(r["json"]["event_action"], r["json"]["dedup_key"]) for r in server.requests]


def test_it_reaches_pagerduty_as_one_incident_in_order(pagerduty):
    pagerduty_channel()
    alert = fire()
    acknowledge(alert)
    resolve(alert)
    assert events(pagerduty) == [
        ("trigger", "disk:db-1"),
        ("acknowledge", "disk:db-1"),
        ("resolve", "disk:db-1"),
    ]


def test_it_reaches_opsgenie_as_one_alert_in_order(opsgenie):
    opsgenie_channel()
    alert = fire()
    acknowledge(alert)
    resolve(alert)
    create, ack, close = opsgenie.requests
    assert (create["path"], create["json"]["alias"]) == ("/v2/alerts", "disk:db-1")
    assert ack["path"] == "/v2/alerts/disk%3Adb-1/acknowledge?identifierType=alias"
    assert close["path"] == "/v2/alerts/disk%3Adb-1/close?identifierType=alias"


def test_it_tells_only_the_incident_tools_of_an_acknowledgement(pagerduty):
    pagerduty_channel()
    slack = ChannelFactory(kind=Channel.Kind.SLACK, url=f"{pagerduty.url}/slack")
    alert = fire()
    acknowledge(alert)
    acknowledged = Message.objects.get(kind="alert.acknowledged")
    assert [d.kind for d in acknowledged.deliveries.all()] == [Channel.Kind.PAGERDUTY]
    assert not Delivery.objects.filter(channel=slack, message__kind="alert.acknowledged").exists()


def test_it_acknowledges_only_where_the_alert_was_announced(pagerduty):
    rule = AlertRuleFactory()
    told, other = pagerduty_channel(), pagerduty_channel(token="0" * 32)
    rule.channels.add(told)
    alert = fire(rule=rule)
    acknowledge(alert)
    assert [d.channel for d in Message.objects.get(kind="alert.acknowledged").deliveries.all()] == [told]
    assert other.deliveries.count() == 0


def test_it_sends_nothing_on_acknowledging_an_alert_no_tool_heard_of(pagerduty):
    alert = fire()
    pagerduty_channel()  # created after the alert was announced
    acknowledge(alert)
    assert not Message.objects.filter(kind="alert.acknowledged").exists() and pagerduty.requests == []


def test_it_resolves_the_incident_an_escalation_opened(pagerduty):
    rule = AlertRuleFactory()
    rule.channels.add(ChannelFactory(kind=Channel.Kind.DASHBOARD))
    step = escalation_step(rule, level=1, escalate_after_minutes=0)
    step.channels.add(pagerduty_channel())
    alert = fire(rule=rule)
    alert.refresh_from_db()
    assert alert_escalate(alert_id=alert.pk, token=alert.escalation_token, now=alert.next_escalation_at)
    deliveries_send_due()
    resolve(alert)
    assert events(pagerduty) == [("trigger", "disk:db-1"), ("resolve", "disk:db-1")]


def test_it_splits_a_storm_into_one_incident_per_alert(pagerduty):
    pagerduty_channel()
    email = ChannelFactory(kind=Channel.Kind.EMAIL, recipients="oncall@example.com")
    for n in range(3):
        alert_raise(fingerprint=f"disk:db-{n}", title=f"Disk full on db-{n}", severity="high")
    alerts_pending_announce()
    deliveries_send_due()
    assert sorted(key for _, key in events(pagerduty)) == ["disk:db-0", "disk:db-1", "disk:db-2"]
    assert Message.objects.filter(deliveries__channel=email).count() == 1  # e-mail still gets the group


def test_it_acknowledges_once_however_often_the_acknowledgement_is_retried(pagerduty):
    pagerduty_channel()
    alert = fire()
    acknowledge(alert)
    with pytest.raises(Exception, match="Only a firing alert"):
        alert_acknowledge(alert=alert)
    deliveries_send_due()
    assert [action for action, _ in events(pagerduty)] == ["trigger", "acknowledge"]


def test_it_acknowledges_through_the_api_like_the_admin(api, pagerduty):
    pagerduty_channel()
    alert = fire()
    response = api.post(f"/api/operations/alerts/{alert.pk}/acknowledge", {"note": "on it"}, format="json")
    assert response.status_code == 200, response.content
    deliveries_send_due()
    assert events(pagerduty)[-1] == ("acknowledge", "disk:db-1")


def test_a_provider_answering_429_then_accepting_gets_the_acknowledgement_once(pagerduty):
    pagerduty_channel()
    alert = fire()
    pagerduty.then(Answer(429, b""))
    acknowledge(alert)
    send_twice()
    assert [action for action, _ in events(pagerduty)] == ["trigger", "acknowledge", "acknowledge"]
    assert Delivery.objects.get(message__kind="alert.acknowledged").status == Delivery.Status.SENT


def test_it_notes_who_acknowledged_in_opsgenie(opsgenie, staff_user):
    opsgenie_channel()
    alert = fire()
    acknowledge(alert, user=staff_user, note="on it")
    note = opsgenie.requests[-1]["json"]["note"]
    assert note == f"Acknowledged in Vigil by {staff_user.get_username()}: on it"


def test_an_escalation_links_to_the_alert(pagerduty):
    rule = AlertRuleFactory()
    rule.channels.add(ChannelFactory(kind=Channel.Kind.DASHBOARD))
    escalation_step(rule, level=1, escalate_after_minutes=0).channels.add(pagerduty_channel())
    alert = fire(rule=rule)
    alert.refresh_from_db()
    alert_escalate(alert_id=alert.pk, token=alert.escalation_token, now=alert.next_escalation_at)
    deliveries_send_due()
    assert pagerduty.requests[0]["json"]["links"][0]["href"].endswith(
        f"/admin/alerts/alert/{alert.pk}/change/"
    )
