"""Beat stops while a worker runs: its jobs' built-in heartbeat checks go down and alert (the
worker keeps the sweep going on its own timer), and recover when beat is back."""

import signal

import pytest

from alerts.models import Alert
from healthchecks.pings.models import Check
from tests.faults.processes import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

INTERVAL = 5


def _down_alert():
    return Alert.objects.open().filter(title="Vigil beat job: evaluate_alerts is down").first()


def test_a_stalled_beat_is_an_alert_and_recovers(processes, test_database_url):
    redis = processes.redis()
    env = {
        "DATABASE_URL": test_database_url,
        "CELERY_BROKER_URL": redis.url(0),
        "REDIS_URL": redis.url(1),
        "ALERT_CHECK_INTERVAL": str(INTERVAL),
        "CHECKS_SWEEP_INTERVAL": str(INTERVAL),
        "BUILTIN_CHECKS_MIN_GRACE": str(INTERVAL),
    }
    processes.worker(env=env)
    beat = processes.beat(env=env)
    check = wait_until(
        lambda: Check.objects.filter(builtin_job="evaluate_alerts", state="up").first(),
        timeout=30,
        what="evaluate_alerts to report to its built-in check",
    )
    assert (check.period_seconds, check.grace_seconds) == (INTERVAL, 2 * INTERVAL)
    assert Check.objects.filter(builtin_job="sweep_checks").exists()

    beat.stop(signal.SIGKILL)  # stalled: nothing sends the jobs any more
    alert = wait_until(_down_alert, timeout=45, what="the stalled job's check to go down")
    assert Check.objects.get(builtin_job="evaluate_alerts").state == "down"
    assert Alert.objects.filter(title="Vigil beat job: evaluate_alerts is down").count() == 1

    processes.beat("beat-again", env=env)
    wait_until(
        lambda: Alert.objects.get(pk=alert.pk).status == "resolved",
        timeout=30,
        what="the check to recover when beat is back",
    )
