import pytest
from django.core.exceptions import ValidationError

from notifications.models import Channel, Delivery, DeliveryAttempt
from notifications.services import channel_send_test, deliveries_send_due
from tests.notifications.factories import ChannelFactory
from tests.notifications.incident_tool_servers import (
    PAGERDUTY_INVALID,
    ROUTING_KEY,
    pagerduty_server,
)
from tests.notifications.provider_servers import Answer, page, send_twice

pytestmark = pytest.mark.django_db

ALERT = {
    "alerts": [{"id": 7, "fingerprint": "rule:3:db-1", "title": "Disk almost full", "status": "firing"}],
    "url": "https://vigil.example/admin/alerts/alert/7/change/",
}


@pytest.fixture
def pagerduty(settings):
    server = pagerduty_server()
    settings.PAGERDUTY_EVENTS_URL = server.url
    yield server
    server.stop()


def pagerduty_channel(**fields):
    return ChannelFactory(kind=Channel.Kind.PAGERDUTY, recipients="", **{"token": ROUTING_KEY, **fields})


def test_it_triggers_an_event_keyed_by_the_alerts_fingerprint(pagerduty):
    pagerduty_channel()
    page(context=ALERT)
    deliveries_send_due()
    [request] = pagerduty.requests
    event = request["json"]
    assert request["path"] == "/v2/enqueue"
    assert (event["routing_key"], event["event_action"], event["dedup_key"]) == (
        ROUTING_KEY,
        "trigger",
        "rule:3:db-1",
    )
    assert event["payload"]["summary"] == "Disk almost full on db-1"
    assert event["payload"]["severity"] == "critical"
    assert event["links"][0]["href"] == ALERT["url"]
    assert Delivery.objects.get().status == Delivery.Status.SENT


@pytest.mark.parametrize(("ours", "theirs"), [("high", "error"), ("medium", "warning"), ("low", "info")])
def test_it_maps_our_severity_to_pagerdutys(pagerduty, ours, theirs):
    pagerduty_channel()
    page(context=ALERT, severity=ours)
    deliveries_send_due()
    assert pagerduty.requests[0]["json"]["payload"]["severity"] == theirs


@pytest.mark.parametrize(
    ("kind", "action"), [("alert.acknowledged", "acknowledge"), ("alert.resolved", "resolve")]
)
def test_it_acknowledges_and_resolves_under_the_same_key_with_nothing_else(pagerduty, kind, action):
    pagerduty_channel()
    page(kind=kind, context=ALERT, dedup_key=kind)
    deliveries_send_due()
    assert pagerduty.requests[0]["json"] == {
        "routing_key": ROUTING_KEY,
        "event_action": action,
        "dedup_key": "rule:3:db-1",
    }


def test_it_fails_an_invalid_event_at_once_with_pagerdutys_reason(pagerduty):
    pagerduty.then(Answer.json(400, PAGERDUTY_INVALID))
    pagerduty_channel()
    page(context=ALERT)
    deliveries_send_due()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED and delivery.attempts == 1
    assert delivery.last_error == (
        "HTTP 400: Event object is invalid: Length of 'routing_key' is incorrect (should be 32 characters)"
    )


def test_it_waits_out_a_429_then_sends_once(pagerduty):
    pagerduty.then(Answer(429, b"", {"Retry-After": "40"}))
    pagerduty_channel()
    page(context=ALERT)
    deliveries_send_due()
    delivery = Delivery.objects.get()
    attempt = delivery.attempt_log.get()
    assert attempt.outcome == DeliveryAttempt.Outcome.RETRY and attempt.status_code == 429
    assert 39 <= (delivery.next_attempt_at - attempt.started_at).total_seconds() <= 42
    send_twice()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 2 and len(pagerduty.requests) == 2


def test_it_retries_a_5xx(pagerduty):
    pagerduty.then(Answer(502, b"Bad Gateway"))
    pagerduty_channel()
    page(context=ALERT)
    deliveries_send_due()
    assert Delivery.objects.get().status == Delivery.Status.PENDING


def test_its_test_notification_is_a_trigger_then_its_resolve(pagerduty):
    channel = pagerduty_channel(enabled=False)
    message = channel_send_test(channel=channel)
    deliveries_send_due()
    actions = [(r["json"]["event_action"], r["json"]["dedup_key"]) for r in pagerduty.requests]
    assert actions == [("trigger", message.dedup_key), ("resolve", message.dedup_key)]
    assert Delivery.objects.get().status == Delivery.Status.SENT


def test_it_does_not_send_a_message_no_incident_follows_from(pagerduty):
    pagerduty_channel()
    page(kind="alert.flapping", context=ALERT)
    page(kind="maintenance.reminder", dedup_key="reminder", context={"url": "https://vigil.example/m/1"})
    assert not Delivery.objects.exists()


def test_it_tells_two_integrations_on_one_server_apart(pagerduty):
    pagerduty_channel()
    pagerduty_channel(token="0" * 32)
    page(context=ALERT)
    deliveries_send_due()
    assert sorted(r["json"]["routing_key"] for r in pagerduty.requests) == sorted([ROUTING_KEY, "0" * 32])
    assert all(ROUTING_KEY not in d.recipient for d in Delivery.objects.all())


def test_it_takes_a_server_of_its_own_and_checks_it(pagerduty):
    channel = pagerduty_channel(url=pagerduty.url)
    channel.full_clean()
    with pytest.raises(ValidationError) as error:
        Channel(name="p", kind=Channel.Kind.PAGERDUTY, url="file:///etc", token=ROUTING_KEY).full_clean()
    assert "url" in error.value.message_dict


def test_it_needs_a_routing_key_of_the_right_shape():
    with pytest.raises(ValidationError) as error:
        Channel(name="p", kind=Channel.Kind.PAGERDUTY, token="short").full_clean()
    assert "token" in error.value.message_dict


def test_it_keeps_the_routing_key_out_of_the_audit_log_and_from_viewers():
    from django.test import Client
    from django.urls import reverse

    from config.models import AuditEntry
    from tests.config.factories import role_user

    client = Client()
    client.force_login(role_user("superuser"))
    form = {
        "name": "pager",
        "kind": "pagerduty",
        "token": ROUTING_KEY,
        "min_severity": "high",
        "enabled": "on",
    }
    response = client.post(reverse("admin:notifications_channel_add"), form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    channel = Channel.objects.get()
    entries = " ".join(str([e.before, e.after, e.changes]) for e in AuditEntry.objects.all())
    assert "pager" in entries and ROUTING_KEY not in entries
    client.force_login(role_user("viewer"))
    for url in (
        reverse("admin:notifications_channel_change", args=[channel.pk]),
        reverse("admin:notifications_channel_changelist"),
    ):
        body = client.get(url).content.decode()
        assert "pager" in body and ROUTING_KEY not in body
