"""The ping buffer (service mode): a ping by UUID answered from Redis, applied by the flusher
exactly once, with what the database path would have left."""

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client

from alerts.models import Alert
from healthchecks.pings import buffer, services
from healthchecks.pings.models import Check, Ping, PingBufferBatch
from healthchecks.pings.services import check_create, checks_sweep
from tests.alerts.test_concurrency import race

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not django_settings.REDIS_URL,
        reason="the buffer is service mode's: Redis in front of PostgreSQL",
    ),
]
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
STATE = ("state", "last_ping_at", "started_at", "last_duration", "due_at", "alert_after")


@pytest.fixture
def buffered(settings):
    settings.PING_BUFFER = True
    return settings


def ping(client: Client, check: Check, action: str = "", **headers):
    path = f"/ping/{check.ping_key}" + (f"/{action}" if action else "")
    return client.get(path, HTTP_USER_AGENT="cron/1.0", **headers)


def pings_of(check: Check) -> list[tuple]:
    return list(
        check.pings.order_by("at", "id").values_list(
            "kind", "exit_status", "at", "duration", "method", "user_agent"
        )
    )


def test_a_known_key_is_answered_from_the_buffer_and_lands_at_its_arrival_time(buffered):
    check = check_create(name="nightly", period_seconds=3600, grace_seconds=600)
    client = Client()
    with time_machine.travel(T0, tick=False):
        assert ping(client, check).status_code == 200  # the database path; the key is learned
    assert check.pings.count() == 1
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        answer = ping(client, check)
    assert answer.status_code == 200 and answer.content == b"OK\n"
    assert check.pings.count() == 1 and buffer.buffered_count() == 1
    done = buffer.flush_pings()
    assert done == {"batches": 1, "pings": 1, "skipped": 0}
    check.refresh_from_db()
    assert check.pings.count() == 2 and buffer.buffered_count() == 0
    assert check.last_ping_at == T0 + timedelta(minutes=5)
    assert check.due_at == T0 + timedelta(minutes=65)


def test_buffered_pings_leave_what_the_database_path_leaves(buffered):
    through_buffer = check_create(name="buffered", period_seconds=3600, grace_seconds=600)
    direct = check_create(name="direct", period_seconds=3600, grace_seconds=600)
    client = Client()
    steps = ["start", "", "start", "fail", "log", "start", "0", "7", "", "start"]
    with time_machine.travel(T0 - timedelta(minutes=1), tick=False):
        ping(client, through_buffer, "log")  # teaches the buffer the key, changes nothing
    Ping.objects.all().delete()
    for minute, action in enumerate(steps):
        with time_machine.travel(T0 + timedelta(minutes=minute), tick=False):
            buffered.PING_BUFFER = True
            assert ping(client, through_buffer, action).status_code == 200
            buffered.PING_BUFFER = False
            assert ping(client, direct, action).status_code == 200
            buffered.PING_BUFFER = True
    assert buffer.buffered_count() == len(steps) and not through_buffer.pings.exists()
    buffer.flush_pings()
    through_buffer.refresh_from_db()
    direct.refresh_from_db()
    assert [getattr(through_buffer, f) for f in STATE] == [getattr(direct, f) for f in STATE]
    assert pings_of(through_buffer) == pings_of(direct) and len(pings_of(direct)) == len(steps)
    # The failures raised alerts alike either way, and the successes after them resolved them.
    raised = [Alert.objects.filter(fingerprint=c.fingerprint).count() for c in (through_buffer, direct)]
    assert raised[0] == raised[1] >= 1
    assert not Alert.objects.open().exists()


def test_unknown_and_deleted_keys_are_not_buffered_and_answer_404(buffered):
    client = Client()
    assert client.get(f"/ping/{uuid.uuid4()}").status_code == 404
    check = check_create(name="soon gone", period_seconds=3600, grace_seconds=600)
    assert ping(client, check).status_code == 200
    assert ping(client, check).status_code == 200 and buffer.buffered_count() == 1
    buffer.flush_pings()
    check.delete()
    assert ping(client, check).status_code == 404
    assert buffer.buffered_count() == 0


def test_a_ping_with_a_body_and_a_full_buffer_take_the_database_path(buffered):
    check = check_create(name="chatty", period_seconds=3600, grace_seconds=600)
    client = Client()
    ping(client, check)
    answer = client.post(f"/ping/{check.ping_key}", data=b"12 rows copied", content_type="text/plain")
    assert answer.status_code == 200
    assert check.pings.filter(body="12 rows copied").exists() and buffer.buffered_count() == 0
    buffered.PING_BUFFER_MAX = 2
    for _ in range(3):
        assert ping(client, check).status_code == 200
    assert buffer.buffered_count() == 2 and check.pings.count() == 3


def test_with_redis_unreachable_a_ping_takes_the_database_path(buffered, closed_port):
    check = check_create(name="steady", period_seconds=3600, grace_seconds=600)
    client = Client()
    ping(client, check)
    location = f"redis://127.0.0.1:{closed_port}/0"
    buffered.CACHES = {
        "default": {**django_settings.CACHES["default"], "LOCATION": location},
    }
    assert ping(client, check).status_code == 200
    assert check.pings.count() == 2


def _fill(count_per_check: int, checks: int) -> list[Check]:
    made = [check_create(name=f"job {n}", period_seconds=3600, grace_seconds=600) for n in range(checks)]
    buffer.buffer_learn([check.ping_key for check in made])
    for _ in range(count_per_check):
        for check in made:
            pushed = buffer.buffer_ping(
                ping_key=check.ping_key,
                kind="success",
                exit_status=None,
                method="GET",
                remote_addr="",
                user_agent="",
            )
            assert pushed
    return made


def test_flushers_racing_apply_each_ping_once(buffered):
    buffered.PING_BUFFER_BATCH = 50
    _fill(count_per_check=20, checks=30)
    client = buffer._client()
    scripts = buffer._scripts.get(client)
    tallies = []

    def drain_without_the_lock():
        # As if each flusher's lock had expired under it: only the batch ids keep them apart.
        tally = {"batches": 0, "pings": 0, "skipped": 0}
        buffer._drain(client, scripts, time.monotonic() + 30, tally)
        tallies.append(tally)

    race(drain_without_the_lock, count=3)
    race(buffer.flush_pings, count=2)  # with the lock, and the same task delivered again
    assert Ping.objects.count() == 600
    assert sum(t["pings"] for t in tallies) == 600 and buffer.buffered_count() == 0
    assert Check.objects.filter(state="up").count() == 30


def test_a_batch_committed_but_not_acknowledged_is_not_applied_again(buffered):
    _fill(count_per_check=3, checks=4)
    client = buffer._client()
    scripts = buffer._scripts.get(client)
    keys = [buffer._key("queue"), buffer._key("processing"), buffer._key("processing_id")]
    batch_id, items = scripts.take(keys=keys, args=[100, uuid.uuid4().hex], client=client)
    assert buffer._apply_batch(batch_id.decode(), items) == 12  # ...and the flusher dies here
    assert buffer.flush_pings() == {"batches": 1, "pings": 0, "skipped": 12}
    assert Ping.objects.count() == 12 and PingBufferBatch.objects.count() == 1
    assert buffer.buffered_count() == 0


def test_a_ping_that_cannot_be_applied_is_dropped_alone(buffered):
    (check,) = _fill(count_per_check=2, checks=1)
    client = buffer._client()
    client.lpush(buffer._key("queue"), b'["not a uuid","success",null,0,"GET","",""]')
    assert buffer.flush_pings()["pings"] == 2
    assert check.pings.count() == 2 and buffer.buffered_count() == 0


def test_the_sweep_applies_buffered_pings_before_it_judges(buffered):
    check = check_create(name="every minute", period_seconds=60, grace_seconds=60)
    client = Client()
    with time_machine.travel(T0, tick=False):
        ping(client, check)
    with time_machine.travel(T0 + timedelta(seconds=110), tick=False):
        ping(client, check)  # in time, but still in the buffer when the sweep runs
    assert buffer.buffered_count() == 1
    with time_machine.travel(T0 + timedelta(seconds=130), tick=False):
        found = checks_sweep()
    check.refresh_from_db()
    assert found == {"late": 0, "down": 0} and check.state == "up"
    assert not Alert.objects.exists()


def test_a_batch_of_successes_leaves_what_one_ping_at_a_time_leaves(buffered, monkeypatch):
    """Plain successes go in one statement; a down check (its alert to resolve), a cron check and
    a check with a start in the batch take check_ping. Either way the outcome is the database
    path's, ping by ping."""
    kinds = {
        "steady": {"period_seconds": 3600, "grace_seconds": 600},
        "down": {"period_seconds": 60, "grace_seconds": 60},
        "cron": {"kind": "cron", "schedule": "*/5 * * * *", "time_zone": "UTC", "grace_seconds": 120},
        "running": {"period_seconds": 3600, "grace_seconds": 600},
    }
    pairs = {
        name: [check_create(name=f"{name} {way}", **fields) for way in ("buffered", "direct")]
        for name, fields in kinds.items()
    }
    client = Client()
    with time_machine.travel(T0, tick=False):
        for checks in pairs.values():
            for check in checks:
                ping(client, check)  # the database path; the buffered ones' keys are learned
    with time_machine.travel(T0 + timedelta(minutes=10), tick=False):
        checks_sweep()  # "down" and "cron" of each pair go down, with an alert each
    assert Alert.objects.open().count() == 4
    steps = [("steady", ""), ("down", ""), ("running", "start"), ("steady", "0"), ("cron", "")]
    steps += [("running", ""), ("steady", ""), ("down", "")]
    for second, (name, action) in enumerate(steps):
        buffered_check, direct_check = pairs[name]
        with time_machine.travel(T0 + timedelta(minutes=11, seconds=second), tick=False):
            assert ping(client, buffered_check, action).status_code == 200
            buffered.PING_BUFFER = False
            assert ping(client, direct_check, action).status_code == 200
            buffered.PING_BUFFER = True
    assert buffer.buffered_count() == len(steps)
    one_at_a_time = []
    original = services.check_ping
    monkeypatch.setattr(services, "check_ping", lambda **ping: one_at_a_time.append(ping) or original(**ping))
    assert buffer.flush_pings() == {"batches": 1, "pings": len(steps), "skipped": 0}
    # Only "steady" was up with nothing but successes in the batch: its three went in one go.
    assert len(one_at_a_time) == len(steps) - 3
    for buffered_check, direct_check in pairs.values():
        buffered_check.refresh_from_db()
        direct_check.refresh_from_db()
        assert [getattr(buffered_check, f) for f in STATE] == [getattr(direct_check, f) for f in STATE]
        assert pings_of(buffered_check) == pings_of(direct_check)
    assert not Alert.objects.open().exists()
