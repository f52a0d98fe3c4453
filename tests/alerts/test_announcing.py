"""The alert services announce their own changes after commit; batches go out together."""

from datetime import timedelta

import pytest

from alerts import notify
from alerts.notify import alert_channels, announcements_batched
from alerts.services import alert_acknowledge, alert_raise, alert_reopen, alert_resolve, alerts_escalate_due
from notifications.models import Delivery
from tests.alerts.factories import AlertRuleFactory, ChannelFactory, escalation_step

pytestmark = pytest.mark.django_db


@pytest.fixture
def announcements(monkeypatch):
    sent = []
    monkeypatch.setattr(notify.notify_alerts, "delay", lambda: sent.append("announce"))
    return sent


def _raise(fingerprint="f1"):
    return alert_raise(fingerprint=fingerprint, title="Disk full", severity="high").alert


def test_it_announces_each_service_change_after_commit(announcements, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        alert = _raise()
    with django_capture_on_commit_callbacks(execute=True):
        alert_acknowledge(alert=alert)
    with django_capture_on_commit_callbacks(execute=True):
        alert_resolve(alert=alert)
    with django_capture_on_commit_callbacks(execute=True):
        alert_reopen(alert=alert)
    assert announcements == ["announce"] * 4


def test_it_announces_nothing_when_the_change_rolls_back(announcements, django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        _raise()
        raise RuntimeError("the caller failed")
    assert announcements == []


def test_it_announces_a_batch_once(announcements, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), announcements_batched():
        for n in range(5):
            _raise(f"f{n}")
        assert announcements == []
    assert announcements == ["announce"]


def test_it_sends_nothing_when_all_of_a_rules_channels_are_disabled():
    ChannelFactory(name="everyone")
    rule = AlertRuleFactory(severity="high")
    rule.channels.set([ChannelFactory(name="muted", enabled=False)])
    assert alert_channels(rule=rule, severity="high") == []


def test_it_sends_to_every_enabled_channel_when_the_rule_names_none():
    everyone = ChannelFactory(name="everyone")
    ChannelFactory(name="off", enabled=False)
    assert alert_channels(rule=AlertRuleFactory(severity="high"), severity="high") == [everyone]


def test_it_sends_an_escalation_to_its_steps_enabled_channels_only():
    ChannelFactory(name="everyone")
    pager = ChannelFactory(name="pager")
    rule = AlertRuleFactory(severity="high")
    off = ChannelFactory(name="off", enabled=False)
    escalation_step(rule, level=1, escalate_after_minutes=5, channels=[pager, off])
    alert = alert_raise(fingerprint="f1", title="t", severity="high", rule=rule).alert
    alerts_escalate_due(now=alert.fired_at + timedelta(minutes=5))
    sent = Delivery.objects.filter(message__kind="alert.escalated").values_list("channel__name", flat=True)
    assert list(sent) == ["pager"]


def test_it_sends_only_to_the_rules_own_enabled_channels():
    ChannelFactory(name="everyone")
    own = ChannelFactory(name="own")
    rule = AlertRuleFactory(severity="high")
    rule.channels.set([own, ChannelFactory(name="muted", enabled=False)])
    assert alert_channels(rule=rule, severity="high") == [own]


def test_it_keeps_channels_whose_minimum_severity_is_above_the_alert_out():
    ChannelFactory(name="pager", min_severity="critical")
    low = ChannelFactory(name="inbox", min_severity="low")
    assert alert_channels(rule=None, severity="medium") == [low]
