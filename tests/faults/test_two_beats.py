"""Two beat processes by mistake (the Procfile started twice on one host), one worker.

Every periodic job is sent twice per interval (5 s here), so evaluation, escalation and the
outbox sweep each run twice at once, again and again. What must hold over several intervals:
one alert for the firing rule, one escalation, and each mail once: the alert's page to on-call,
the escalation, and a subscriber fan-out that both sweepers compete for."""

import time

import pytest
from django.utils import timezone

from alerts.models import Alert, AlertEvent, AlertRule
from monitoring.models import Metric
from notifications.models import Channel, Delivery, Message
from tests.alerts.factories import escalation_step
from tests.faults.processes import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

INTERVAL = 5
INTERVALS = 4
SUBSCRIBERS = 300

FAN_OUT = f"""
from notifications.services import message_enqueue
message_enqueue(
    kind="incident.created", subject="Checkout errors", severity="high", dedup_key="two-beats",
    channels=[], emails=(f"person{{n}}@example.com" for n in range({SUBSCRIBERS})),
)
"""


def seed_firing_rule() -> AlertRule:
    AlertRule.objects.update(enabled=False)  # only this test's rule: the defaults watch this machine
    Channel.objects.update(enabled=False)
    oncall = Channel.objects.create(name="On-call", kind="email", recipients="oncall@example.com")
    managers = Channel.objects.create(name="Managers", kind="email", recipients="manager@example.com")
    rule = AlertRule.objects.create(
        name="Queue backlog",
        metric_name="faults.queue_depth",
        aggregation="max",
        window_minutes=10,
        operator=">",
        threshold=100,
        duration_minutes=0,
        severity="high",
    )
    rule.channels.add(oncall)
    escalation_step(rule, level=1, escalate_after_minutes=0, channels=[managers])
    escalation_step(rule, level=2, escalate_after_minutes=60, channels=[managers])
    Metric.objects.create(
        name="faults.queue_depth",
        value=500,
        metric_type="application",
        category="queue",
        timestamp=timezone.now(),
    )
    return rule


def test_it_sends_nothing_twice_with_two_beats(processes, smtp_sink, test_database_url):
    rule = seed_firing_rule()
    redis = processes.redis()
    env = {
        "DATABASE_URL": test_database_url,
        "CELERY_BROKER_URL": redis.url(0),
        "REDIS_URL": redis.url(1),
        "EMAIL_URL": smtp_sink.url,
        "ALERT_CHECK_INTERVAL": str(INTERVAL),
        "ESCALATION_CHECK_INTERVAL": str(INTERVAL),
        "NOTIFICATIONS_SWEEP_INTERVAL": str(INTERVAL),
        "HEARTBEAT_INTERVAL": str(INTERVAL),
    }
    worker = processes.worker(env=env)
    # Started twice from one installation: the same settings and the same schedule file.
    schedule = processes.workdir / "celerybeat-schedule"
    beats = [processes.beat(name, env=env, schedule=schedule) for name in ("beat-1", "beat-2")]
    processes.run_python("fan-out", FAN_OUT, env=env)

    started = time.monotonic()
    wait_until(
        lambda: smtp_sink.total() >= SUBSCRIBERS + 2, timeout=30, what="the page, escalation and fan-out"
    )
    time.sleep(max(0.0, INTERVALS * INTERVAL - (time.monotonic() - started)))

    for beat in beats:  # the premise: both beats are alive and both keep sending the jobs
        assert beat.alive(), beat.output()[-4000:]
        assert beat.output().count("Sending due task evaluate_alerts") >= INTERVALS - 1
    assert worker.output().count("Task alerts.tasks.evaluate_alerts") >= 2 * (INTERVALS - 1)

    alert = Alert.objects.get(rule=rule)
    assert alert.occurrence_count == 1 and alert.status == "firing"
    assert AlertEvent.objects.filter(alert=alert, kind="fired").count() == 1
    assert AlertEvent.objects.filter(alert=alert, kind="escalated").count() == 1
    assert Message.objects.filter(kind="alert.firing").count() == 1
    assert Message.objects.filter(kind="alert.escalated").count() == 1
    assert not Delivery.objects.exclude(status=Delivery.Status.SENT).exists()
    counts = smtp_sink.counts()
    assert counts.pop("oncall@example.com") == 1
    assert counts.pop("manager@example.com") == 1
    assert counts == {f"person{n}@example.com": 1 for n in range(SUBSCRIBERS)}
