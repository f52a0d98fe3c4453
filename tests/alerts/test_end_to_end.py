"""An alert raised by a real metric reaches the outbox once, escalates once, stops on
acknowledgement and resolves with a notification."""

from datetime import timedelta

import pytest
import time_machine

from alerts.evaluation import evaluate_rules
from alerts.models import Alert
from alerts.services import alert_acknowledge, alerts_escalate_due
from notifications.models import Delivery, Message
from notifications.services import deliveries_send_due
from tests.alerts.conftest import START
from tests.alerts.factories import AlertRuleFactory, ChannelFactory, escalation_step, point

pytestmark = pytest.mark.django_db


def at(minute: float):
    return time_machine.travel(START + timedelta(minutes=minute), tick=False)


def kinds() -> list[str]:
    return list(Message.objects.order_by("pk").values_list("kind", flat=True))


def test_it_takes_an_alert_from_metric_to_resolution():
    on_call, managers = ChannelFactory(name="on-call"), ChannelFactory(name="managers")
    rule = AlertRuleFactory(metric_name="system.memory_percent", threshold=85, duration_minutes=1)
    rule.channels.add(on_call)
    escalation_step(rule, level=1, escalate_after_minutes=10, channels=[managers])

    for minute in (0, 1):
        with at(minute):
            point(93, name="system.memory_percent")
            evaluate_rules()
    with at(1.5):
        evaluate_rules()  # a second tick while firing sends nothing new
        alerts_escalate_due()
    assert kinds() == ["alert.firing"]
    assert Delivery.objects.get().channel == on_call

    with at(11):
        alerts_escalate_due()
        alerts_escalate_due()  # a second sweeper run finds nothing due
    assert kinds() == ["alert.firing", "alert.escalated"]

    alert_acknowledge(alert=Alert.objects.get(), note="adding memory")
    with at(40):
        alerts_escalate_due()
    assert kinds() == ["alert.firing", "alert.escalated"]

    with at(41):
        point(40, name="system.memory_percent")
        evaluate_rules()
    assert Alert.objects.get().status == "resolved"
    assert kinds() == ["alert.firing", "alert.escalated", "alert.resolved"]
    with at(42):  # within the deliveries' maximum age, which claims respect
        report = deliveries_send_due()
    assert report.sent == 3 and Delivery.objects.filter(status="sent").count() == 3
