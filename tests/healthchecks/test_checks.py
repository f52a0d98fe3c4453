import io
import socket
import time

import pytest
from django.core.management import call_command

from healthchecks import checks
from healthchecks.beat import HeartbeatScheduler
from healthchecks.models import Heartbeat
from healthchecks.services import heartbeat_record
from healthchecks.tasks import heartbeat

pytestmark = pytest.mark.django_db


def test_it_reports_a_hung_check_as_timed_out():
    started = time.monotonic()
    results = checks.run_checks({"slow": lambda: time.sleep(5), "fast": lambda: None}, timeout=0.3)
    assert time.monotonic() - started < 1
    assert results["slow"].status == "down"
    assert results["slow"].error == "timed out after 0.3 s"
    assert results["fast"].status == "ok"


def test_it_reports_a_broker_that_accepts_but_never_answers_within_the_deadline(settings):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        started = time.monotonic()
        result = checks.run_checks({"broker": checks.broker})["broker"]
    assert time.monotonic() - started < 3
    assert result.status == "down"


def test_it_hides_credentials_in_errors():
    def failing():
        raise RuntimeError("cannot reach redis://user:s3cret@10.0.0.1:6379/0")

    result = checks.run_checks({"x": failing})["x"]
    assert "s3cret" not in result.error
    assert "redis://***@10.0.0.1" in result.error


def test_it_upserts_one_heartbeat_per_process():
    heartbeat_record(kind=Heartbeat.Kind.WORKER, name="celery@a")
    heartbeat_record(kind=Heartbeat.Kind.WORKER, name="celery@a")
    assert Heartbeat.objects.filter(kind="worker", name="celery@a").count() == 1


def test_it_records_a_worker_heartbeat_from_the_task():
    summary = heartbeat.apply().get()
    assert summary.startswith("worker heartbeat recorded")
    assert Heartbeat.objects.filter(kind=Heartbeat.Kind.WORKER).exists()


@pytest.mark.django_db(transaction=True)  # the scheduler closes stale connections, as in its own process
def test_it_records_a_beat_heartbeat_from_the_scheduler(tmp_path):
    from config.celery import app

    scheduler = HeartbeatScheduler(app=app, schedule_filename=str(tmp_path / "schedule"), lazy=True)
    scheduler._record_heartbeat()
    assert Heartbeat.objects.filter(kind=Heartbeat.Kind.BEAT, name=socket.gethostname()).exists()


def test_it_records_a_heartbeat_from_the_management_command():
    out = io.StringIO()
    call_command("heartbeat", stdout=out)
    assert "worker heartbeat recorded for manual@" in out.getvalue()
    assert Heartbeat.objects.filter(name__startswith="manual@").exists()


def test_it_purges_old_probe_results_with_the_purge_old_data_job(settings):
    from datetime import timedelta

    from django.utils import timezone

    from config.retention import old_data_purge
    from healthchecks.models import ProbeResult
    from tests.healthchecks.factories import ProbeFactory

    probe = ProbeFactory()
    old = timezone.now() - timedelta(days=settings.PROBE_RESULTS_RETENTION_DAYS + 1)
    ProbeResult.objects.create(probe=probe, ok=True, checked_at=old)
    ProbeResult.objects.create(probe=probe, ok=True)
    assert dict(old_data_purge())["probe results"] == 1
    assert ProbeResult.objects.count() == 1
