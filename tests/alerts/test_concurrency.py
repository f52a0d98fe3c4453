"""Two evaluators and two escalators racing on PostgreSQL: exactly one alert, one escalation."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from alerts.action_links import ActionLinkError, alert_action_apply, read_claims
from alerts.evaluation import evaluate_rules
from alerts.models import Alert, AlertEvent
from alerts.services import alerts_escalate_due
from core import signed_links
from notifications.models import Message
from tests.alerts.factories import AlertFactory, AlertRuleFactory, ChannelFactory, escalation_step, point

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks and SKIP LOCKED need PostgreSQL (service mode)"
    ),
]


def race(function, count: int = 2) -> None:
    barrier = threading.Barrier(count)
    errors = []

    def run():
        try:
            barrier.wait()
            function()
        except Exception as exc:  # surfaced below, so a failing thread fails the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors


def test_it_raises_one_alert_when_two_evaluators_race():
    ChannelFactory()
    for _ in range(20):
        AlertRuleFactory()
    point(99)
    race(evaluate_rules)
    assert Alert.objects.count() == 20
    # Racing evaluators may split the group in two, but never announce an alert twice.
    announced = [a["id"] for m in Message.objects.filter(kind="alert.firing") for a in m.context["alerts"]]
    assert sorted(announced) == sorted(Alert.objects.values_list("pk", flat=True))


def test_it_escalates_once_when_two_escalators_race():
    rule = AlertRuleFactory()
    escalation_step(rule, level=1, escalate_after_minutes=1, channels=[ChannelFactory()])
    point(99)
    evaluate_rules()
    Alert.objects.update(next_escalation_at=timezone.now() - timedelta(seconds=1))
    race(alerts_escalate_due, count=4)
    assert Message.objects.filter(kind="alert.escalated").count() == 1
    assert Alert.objects.get().escalation_level == 1


def test_it_acts_once_when_one_action_link_is_pressed_twice_at_once():
    alert = AlertFactory()
    token = signed_links.sign({"alert": alert.pk, "action": "silence", "token": alert.escalation_token})
    refused = []

    def press():
        try:
            alert_action_apply(claims=read_claims(token), actor_name="oncall@example.com")
        except ActionLinkError as error:
            refused.append(error.status)

    race(press)
    assert refused == [410]
    assert alert.events.filter(kind=AlertEvent.Kind.SILENCED).count() == 1


def test_it_acknowledges_once_when_two_sessions_race():
    from alerts.notify import alerts_pending_announce
    from alerts.services import AlertTransitionError, alert_acknowledge, alert_raise
    from tests.notifications.incident_tool_servers import ROUTING_KEY

    ChannelFactory(kind="pagerduty", token=ROUTING_KEY)
    alert = alert_raise(fingerprint="disk:db-1", title="Disk full", severity="critical").alert
    alerts_pending_announce()
    refused = []

    def acknowledge():
        try:
            alert_acknowledge(alert=Alert.objects.get(pk=alert.pk))
        except AlertTransitionError:
            refused.append(True)

    race(acknowledge, count=4)
    assert len(refused) == 3
    [message] = Message.objects.filter(kind="alert.acknowledged")
    assert message.deliveries.count() == 1


def test_it_opens_one_incident_when_two_people_declare_one_alert_at_once():
    from alerts.services import alert_declare_incident
    from statuspage.models import Incident

    alert = AlertFactory(title="API down")
    race(lambda: alert_declare_incident(alert=Alert.objects.get(pk=alert.pk)), count=3)
    assert Incident.objects.count() == 1 and Alert.objects.get(pk=alert.pk).incident is not None
