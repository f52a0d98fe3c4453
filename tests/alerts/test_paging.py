"""The escalation engine pages people by their own rules, through the real outbox, SMTP server
and a loopback ntfy server."""

from datetime import timedelta

import pytest
import time_machine

from alerts.models import Alert, AlertEvent
from alerts.services import alert_acknowledge, alert_escalate, alert_raise, alert_resolve, alerts_escalate_due
from notifications.models import Delivery
from notifications.services import deliveries_send_due
from tests.alerts.paging import SUNDAY_3AM_BERLIN, method, on_call_world
from tests.notifications.conftest import ntfy, smtp  # noqa: F401  (the fixtures)

pytestmark = pytest.mark.django_db
T0 = SUNDAY_3AM_BERLIN


@pytest.fixture
def world(smtp, ntfy):  # noqa: F811
    return on_call_world()


def at(minutes: float):
    return time_machine.travel(T0 + timedelta(minutes=minutes), tick=False)


def fire(rule) -> Alert:
    with at(0):
        return alert_raise(fingerprint="db", title="Database down", severity="critical", rule=rule).alert


def sweep_and_send(minutes: float):
    with at(minutes):
        alerts_escalate_due()
        deliveries_send_due()


def mailed(smtp) -> list[str]:  # noqa: F811
    return [address for _, recipients in smtp.envelopes for address in recipients]


def test_it_pages_the_person_on_call_by_their_rules_then_climbs_a_level(world, smtp, ntfy):  # noqa: F811
    fire(world["rule"])
    sweep_and_send(1)
    assert mailed(smtp) == ["alice@example.com"]  # Sunday 03:00: the night rotation, not office hours
    assert ntfy.requests == []  # her second method is due 2 minutes after the page
    sweep_and_send(3)
    [push] = ntfy.requests
    assert push["json"]["topic"] == "alice-pager" and "Database down" in push["json"]["title"]
    sweep_and_send(10.9)
    assert mailed(smtp) == ["alice@example.com"]
    sweep_and_send(11)
    assert mailed(smtp) == ["alice@example.com", "carol@example.com"]  # level 2: the secondary


def test_it_cancels_pending_pages_on_acknowledgement(world, ntfy):  # noqa: F811
    alert = fire(world["rule"])
    sweep_and_send(1)
    with at(2):
        alert_acknowledge(alert=alert, user=world["alice"])
    sweep_and_send(30)
    assert ntfy.requests == []
    push = Delivery.objects.get(kind="ntfy")
    assert push.status == Delivery.Status.CANCELLED and push.person == world["alice"]
    assert Alert.objects.get().escalation_level == 1  # it never climbed


def test_it_records_who_was_paged_how_and_when(world):
    fire(world["rule"])
    sweep_and_send(1)
    [event] = AlertEvent.objects.filter(kind=AlertEvent.Kind.PAGED)
    assert event.actor == world["alice"] and event.at == T0 + timedelta(minutes=1)
    assert (
        "email alice@example.com at +0 min" in event.detail and "push alice-pager at +2 min" in event.detail
    )
    pages = Delivery.objects.filter(person=world["alice"]).order_by("next_attempt_at")
    assert [(d.kind, d.next_attempt_at - T0) for d in pages] == [
        ("email", timedelta(minutes=1)),
        ("ntfy", timedelta(minutes=3)),
    ]


def test_it_tells_each_paged_person_once_when_resolved(world, smtp):  # noqa: F811
    alert = fire(world["rule"])
    sweep_and_send(1)
    sweep_and_send(3)
    sweep_and_send(11)
    with at(12):
        alert_resolve(alert=alert)
        deliveries_send_due()
    resolved = Delivery.objects.filter(message__kind="alert.page-resolved")
    assert sorted(resolved.values_list("recipient", flat=True)) == ["alice@example.com", "carol@example.com"]
    assert mailed(smtp)[-2:] == ["alice@example.com", "carol@example.com"]


def test_it_pages_the_default_e_mail_of_a_person_without_rules(world, smtp):  # noqa: F811
    world["rule"].escalation_policy.steps.get(level=1).users.set([world["bob"]])
    fire(world["rule"])
    sweep_and_send(1)
    assert sorted(mailed(smtp)) == ["alice@example.com", "bob@example.com"]


def test_it_never_pages_an_unverified_method(world, smtp):  # noqa: F811
    carol = world["carol"]
    carol.contact_methods.update(verified_at=None)
    method(carol, "push", "carol-phone", verified=False)
    fire(world["rule"])
    sweep_and_send(1)
    sweep_and_send(11)
    assert not Delivery.objects.filter(person=carol).exists()
    assert AlertEvent.objects.filter(kind="paged", detail__contains="carol not paged").exists()


def test_a_redelivered_escalation_task_pages_nobody_again(world):
    alert = fire(world["rule"])
    token = Alert.objects.get().escalation_token
    with at(1):
        assert alert_escalate(alert_id=alert.pk, token=token)
        assert not alert_escalate(alert_id=alert.pk, token=token)
        alerts_escalate_due()
    assert Delivery.objects.filter(person=world["alice"]).count() == 2


def test_it_runs_the_whole_policy_again_as_many_times_as_it_repeats(world, smtp):  # noqa: F811
    policy = world["policy"]
    policy.repeat = 1
    policy.save()
    fire(world["rule"])
    for minute in (1, 11, 12, 22, 23, 40):
        sweep_and_send(minute)
    assert mailed(smtp) == ["alice@example.com", "carol@example.com"] * 2
