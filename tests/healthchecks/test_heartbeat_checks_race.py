"""Sweepers and pings racing on PostgreSQL: one alert per down check, no ping lost."""

from datetime import UTC, datetime

import pytest
from django.db import connection

from alerts.models import Alert, AlertEvent
from healthchecks.pings.models import Check, Ping
from healthchecks.pings.services import check_create, check_ping, checks_sweep
from tests.alerts.test_concurrency import race

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks and SKIP LOCKED need PostgreSQL (service mode)"
    ),
]
PINGED = datetime(2026, 5, 1, 0, 0, tzinfo=UTC)
LATER = datetime(2026, 5, 2, 0, 0, tzinfo=UTC)


def test_two_sweepers_and_a_redelivered_sweep_raise_one_alert_per_down_check():
    checks = [check_create(name=f"job {n}", period_seconds=3600, grace_seconds=600) for n in range(30)]
    for check in checks:
        check_ping(check=check, kind=Ping.Kind.SUCCESS, now=PINGED)
    race(lambda: checks_sweep(now=LATER), count=3)
    checks_sweep(now=LATER)  # the same task delivered again
    assert Check.objects.filter(state="down").count() == 30
    assert Alert.objects.count() == 30
    assert AlertEvent.objects.filter(kind="fired").count() == 30


def test_pings_racing_on_one_check_are_all_recorded():
    check = check_create(name="busy job", period_seconds=60, grace_seconds=60)
    race(lambda: [check_ping(check=check, kind=Ping.Kind.SUCCESS) for _ in range(10)], count=4)
    check.refresh_from_db()
    assert Ping.objects.filter(check_ref=check).count() == 40 and check.state == "up"


def test_pings_racing_on_one_check_through_the_one_statement_path_are_all_recorded():
    check = check_create(name="busy job", period_seconds=60, grace_seconds=60)
    race(lambda: [check_ping(ping_key=check.ping_key, kind=Ping.Kind.SUCCESS) for _ in range(10)], count=4)
    check.refresh_from_db()
    assert Ping.objects.filter(check_ref=check).count() == 40 and check.state == "up"
