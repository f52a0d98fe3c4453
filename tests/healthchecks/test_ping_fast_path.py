"""On PostgreSQL a plain success ping is one statement; it must leave exactly what the general
path leaves, and leave every other ping to the general path."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from alerts.models import Alert
from healthchecks.pings.fast_path import success_ping_fast
from healthchecks.pings.models import Check, Ping
from healthchecks.pings.services import check_create, check_ping

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement path is PostgreSQL's"),
]
AT = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
FIELDS = ("state", "last_ping_at", "started_at", "last_duration", "due_at", "alert_after")


def _after(check: Check) -> tuple:
    check.refresh_from_db()
    ping = check.pings.get()
    return tuple(getattr(check, f) for f in FIELDS) + (ping.kind, ping.at, ping.method, ping.body)


def _pair(**fields) -> tuple[Check, Check]:
    return check_create(name="fast", **fields), check_create(name="general", **fields)


@pytest.mark.parametrize("state", ["new", "up", "late"])
def test_it_leaves_what_the_general_path_leaves(state):
    fast, general = _pair(period_seconds=3600, grace_seconds=600)
    Check.objects.update(state=state)
    check_ping(ping_key=fast.ping_key, kind=Ping.Kind.SUCCESS, method="POST", body="ok", now=AT)
    check_ping(check=general, kind=Ping.Kind.SUCCESS, method="POST", body="ok", now=AT)
    assert _after(fast) == _after(general)
    assert _after(fast)[0] == "up" and _after(fast)[4] == AT + timedelta(hours=1)


@pytest.mark.parametrize(
    ("fields", "state"),
    [({"kind": "cron", "schedule": "0 2 * * *"}, "up"), ({}, "down"), ({}, "paused")],
)
def test_it_leaves_cron_down_and_paused_checks_to_the_general_path(fields, state):
    check = check_create(name="job", **fields)
    Check.objects.update(state=state)
    found = success_ping_fast(
        ping_key=check.ping_key,
        exit_status=None,
        now=AT,
        method="GET",
        remote_addr="",
        user_agent="",
        body="",
    )
    assert found is None and not Ping.objects.exists()


def test_a_run_in_progress_is_finished_by_the_general_path_with_its_duration():
    check = check_create(name="job")
    check_ping(ping_key=check.ping_key, kind=Ping.Kind.START, now=AT)
    check_ping(ping_key=check.ping_key, kind=Ping.Kind.SUCCESS, now=AT + timedelta(minutes=5))
    check.refresh_from_db()
    assert check.last_duration == timedelta(minutes=5) and check.started_at is None


def test_a_down_check_comes_back_through_the_general_path_and_resolves_its_alert():
    check = check_create(name="job")
    check_ping(ping_key=check.ping_key, kind=Ping.Kind.FAIL, now=AT)
    check_ping(ping_key=check.ping_key, kind=Ping.Kind.SUCCESS, now=AT + timedelta(minutes=1))
    assert Alert.objects.get().status == Alert.Status.RESOLVED
