"""The migration to escalation policies: each rule's old steps become one policy of its own,
which escalates exactly as the steps did."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("alerts", "0004_alert_type_check"),
    ("oncall", "0001_schedules"),
    ("notifications", "0007_channel_kind_gotify"),
]
START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_it_turns_each_rules_steps_into_its_own_policy_that_escalates_the_same():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Channel = old.get_model("notifications", "Channel")
    first = Channel.objects.create(name="primary", kind="dashboard")
    second = Channel.objects.create(name="secondary", kind="dashboard")
    rule = old.get_model("alerts", "AlertRule").objects.create(name="cpu", metric_name="cpu", threshold=90)
    old.get_model("alerts", "AlertRule").objects.create(name="quiet", metric_name="cpu", threshold=95)
    Step = old.get_model("alerts", "EscalationStep")
    Step.objects.create(rule=rule, level=1, escalate_after_minutes=5, repeat=1).channels.add(first)
    Step.objects.create(rule=rule, level=2, escalate_after_minutes=10).channels.add(second)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    from alerts.models import AlertRule
    from alerts.services import alert_raise, alerts_escalate_due
    from notifications.models import Message

    migrated = AlertRule.objects.get(name="cpu")
    policy = migrated.escalation_policy
    assert (policy.name, policy.repeat) == ("cpu", 0)
    steps = [
        (s.level, s.escalate_after_minutes, s.repeat, [c.name for c in s.channels.all()])
        for s in policy.steps.all()
    ]
    assert steps == [(1, 5, 1, ["primary"]), (2, 10, 0, ["secondary"])]
    assert AlertRule.objects.get(name="quiet").escalation_policy is None

    alert_raise(fingerprint="cpu", title="cpu", severity="high", rule=migrated, now=START)
    fired = []
    for minute in (4.9, 5, 9.9, 10, 19.9, 20, 60):
        alerts_escalate_due(now=START + timedelta(minutes=minute))
        fired.append(Message.objects.filter(kind="alert.escalated").count())
    # Level 1 at 5, its repeat at 10, level 2 at 20, then nothing: as the old steps did.
    assert fired == [0, 1, 1, 2, 2, 3, 3]
