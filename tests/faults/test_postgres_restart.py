"""PostgreSQL restarted in the middle of an alert evaluation tick.

A private PostgreSQL cluster (never the shared one), migrated from scratch; a worker and beat
evaluating every 5 s; RULES rules over one metric that all start firing in the same tick. While
that tick is raising their alerts, the cluster gets a fast restart (what `pg_ctl restart -m fast`
does: every session cut, its transaction rolled back). Then RULES more rules start firing, and
while the tick raises those, every application connection is cut with the server staying up
(what a proxy restart or a failover looks like to the worker).

The worker must survive both, the next tick must raise the rest, and in the end there is one
open alert per rule, no alert about rules that "cannot be evaluated" (the database was away,
the rules were fine), each alert announced once, and each announcement mailed once."""

import json
import time

from tests.faults.processes import wait_until

RULES = 150
INTERVAL = 5  # ALERT_CHECK_INTERVAL, NOTIFICATIONS_SWEEP_INTERVAL: the shortest allowed

SETUP = """
from alerts.models import AlertRule
from notifications.models import Channel

AlertRule.objects.update(enabled=False)  # only this test's rules: the defaults watch this machine
Channel.objects.update(enabled=False)
Channel.objects.create(name="On-call mail", kind="email", recipients="oncall@example.com")
"""

RULES_FIRING = """
from django.utils import timezone
from alerts.models import AlertRule
from monitoring.models import Metric

AlertRule.objects.bulk_create(
    AlertRule(
        name=f"{metric} {{n}}", metric_name="{metric}", aggregation="max", window_minutes=10,
        operator=">", threshold=100, duration_minutes=0, severity="high",
    )
    for n in range({rules})
)
Metric.objects.create(
    name="{metric}", value=500, metric_type="application", category="queue", timestamp=timezone.now()
)
"""

ONCALL_MESSAGES = (
    "SELECT m.context FROM notifications_message m WHERE m.kind = 'alert.firing' AND EXISTS (SELECT 1 "
    "FROM notifications_delivery d WHERE d.message_id = m.id AND d.recipient = 'oncall@example.com')"
)
MAILS_SENT = (
    "SELECT count(*) FROM notifications_delivery d JOIN notifications_message m ON m.id = d.message_id "
    "WHERE m.kind = 'alert.firing' AND d.status = 'sent' AND d.recipient = 'oncall@example.com'"
)
CUT_CONNECTIONS = (
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
    "WHERE datname = 'vigil' AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
)


def count(pg, sql: str) -> int:
    return pg.sql("vigil", sql)[0][0]


def open_alerts(pg, metric: str) -> int:
    return count(
        pg,
        "SELECT count(*) FROM alerts_alert a JOIN alerts_alertrule r ON r.id = a.rule_id "
        f"WHERE a.status <> 'resolved' AND r.metric_name = '{metric}'",
    )


def fire_and_interrupt(processes, pg, env, metric: str, interrupt) -> int:
    """Create RULES rules over `metric` that fire at the next tick; call `interrupt` as soon as
    that tick has raised its first alerts. Returns how many it had raised by then."""
    processes.run_python(f"rules-{metric}", RULES_FIRING.format(metric=metric, rules=RULES), env=env)
    raised = wait_until(
        lambda: open_alerts(pg, metric) or None,
        timeout=30,
        every=0.02,
        what=f"a tick to raise {metric} alerts",
    )
    assert raised < RULES, "the tick finished before the fault; raise RULES"
    interrupt()
    return raised


def test_it_raises_each_alert_once_when_postgres_restarts_or_drops_connections_during_a_tick(
    processes, smtp_sink
):
    pg = processes.postgres()
    pg.sql("postgres", "CREATE DATABASE vigil")
    redis = processes.redis()
    env = {
        "DATABASE_URL": pg.url("vigil"),
        "CELERY_BROKER_URL": redis.url(0),
        "REDIS_URL": redis.url(1),
        "EMAIL_URL": smtp_sink.url,
        "ALERT_CHECK_INTERVAL": str(INTERVAL),
        "NOTIFICATIONS_SWEEP_INTERVAL": str(INTERVAL),
    }
    processes.run_python(
        "migrate", "from django.core.management import call_command; call_command('migrate')", env=env
    )
    processes.run_python("setup", SETUP, env=env)
    worker = processes.worker(env=env)
    processes.beat(env=env)

    raised = fire_and_interrupt(processes, pg, env, "faults.queue_depth", pg.fast_restart)
    print(f"restarted PostgreSQL after {raised} of {RULES} alerts")
    wait_until(
        lambda: open_alerts(pg, "faults.queue_depth") == RULES, timeout=30, what="the rest after the restart"
    )

    cut = fire_and_interrupt(processes, pg, env, "faults.error_rate", lambda: count(pg, CUT_CONNECTIONS))
    print(f"cut every connection after {cut} of {RULES} alerts")
    wait_until(
        lambda: open_alerts(pg, "faults.error_rate") == RULES, timeout=30, what="the rest after the cut"
    )

    wait_until(
        lambda: count(pg, MAILS_SENT) and smtp_sink.total() == count(pg, MAILS_SENT),
        timeout=30,
        what="the announcements to be mailed",
    )
    time.sleep(INTERVAL + 1)  # one more tick and sweep: nothing new, nothing twice

    log = worker.output()
    assert "Task alerts.tasks.evaluate_alerts" in log and "OperationalError" in log  # the ticks were hit
    assert pg.sql("vigil", "SELECT 1 FROM pg_indexes WHERE indexname = 'alert_one_open_per_fingerprint'")
    per_fingerprint = pg.sql(
        "vigil",
        "SELECT fingerprint, count(*) FROM alerts_alert WHERE status <> 'resolved' GROUP BY fingerprint",
    )
    assert len(per_fingerprint) == 2 * RULES and {n for _, n in per_fingerprint} == {1}
    titles = [t for (t,) in pg.sql("vigil", "SELECT title FROM alerts_alert WHERE alert_type = 'meta'")]
    assert titles == [], f"alerts about the database outage blamed on rules: {titles[:3]}"
    announced = [
        alert["id"]
        for (context,) in pg.sql("vigil", ONCALL_MESSAGES)
        for alert in (context if isinstance(context, dict) else json.loads(context))["alerts"]
    ]
    assert len(announced) == 2 * RULES and len(set(announced)) == 2 * RULES
    assert smtp_sink.counts() == {"oncall@example.com": count(pg, MAILS_SENT)}
