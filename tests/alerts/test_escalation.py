from datetime import timedelta

import pytest
import time_machine

from alerts.models import Alert
from alerts.services import alert_acknowledge, alert_escalate, alert_raise, alerts_escalate_due
from notifications.models import Message
from tests.alerts.conftest import START
from tests.alerts.factories import AlertRuleFactory, ChannelFactory, escalation_step

pytestmark = pytest.mark.django_db


@pytest.fixture
def escalating_rule():
    rule = AlertRuleFactory()
    first, second = ChannelFactory(name="primary"), ChannelFactory(name="secondary")
    escalation_step(rule, level=1, escalate_after_minutes=5, repeat=1, channels=[first])
    escalation_step(rule, level=2, escalate_after_minutes=10, channels=[second])
    return rule


def fire(rule):
    return alert_raise(
        fingerprint=rule.fingerprint(), title=rule.name, severity="high", rule=rule, now=START
    ).alert


def escalations_at(minute: float) -> list[str]:
    with time_machine.travel(START + timedelta(minutes=minute), tick=False):
        alerts_escalate_due()
    return list(
        Message.objects.filter(kind="alert.escalated").order_by("pk").values_list("subject", flat=True)
    )


def test_it_escalates_level_by_level_with_repeats(escalating_rule):
    fire(escalating_rule)
    assert escalations_at(4.9) == []
    assert escalations_at(5) == ["[ESCALATED L1] " + escalating_rule.name]
    assert len(escalations_at(9)) == 1
    assert len(escalations_at(10)) == 2  # the one repeat of level 1
    assert len(escalations_at(19)) == 2
    assert escalations_at(20)[-1].startswith("[ESCALATED L2]")
    assert len(escalations_at(200)) == 3  # no step after level 2
    assert Alert.objects.get().next_escalation_at is None


def test_it_stops_escalating_once_acknowledged(escalating_rule):
    alert = fire(escalating_rule)
    escalations_at(5)
    alert_acknowledge(alert=alert, note="looking")
    assert len(escalations_at(60)) == 1


def test_it_ignores_a_stale_or_duplicate_escalation_run(escalating_rule):
    alert = fire(escalating_rule)
    token = alert.escalation_token
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        assert alert_escalate(alert_id=alert.pk, token=token) is True
        assert alert_escalate(alert_id=alert.pk, token=token) is False  # redelivered task
    assert Message.objects.filter(kind="alert.escalated").count() == 1


def test_it_does_not_escalate_alerts_of_rules_without_steps():
    rule = AlertRuleFactory()
    alert = fire(rule)
    assert alert.next_escalation_at is None
    assert alerts_escalate_due() == 0
