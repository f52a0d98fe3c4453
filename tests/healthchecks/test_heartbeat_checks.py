"""Heartbeat checks: jobs ping Vigil; an overdue or failed job is one alert, its next success resolves it."""

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from alerts.models import Alert
from healthchecks.pings.models import Check, CheckProject, Ping
from healthchecks.pings.services import MAX_BODY_CHARACTERS, check_create, checks_sweep
from healthchecks.retention import pings_purge
from monitoring.models import Metric
from statuspage.models import Component

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def job():
    return check_create(name="nightly backup", period_seconds=3600, grace_seconds=600)


def ping(client, check, suffix="", method="get", **extra):
    return getattr(client, method)(f"/ping/{check.ping_key}{suffix}", **extra)


def test_a_ping_by_get_post_or_head_marks_the_check_up_and_expects_the_next(client, job):
    now = timezone.now()
    for method in ("get", "post", "head"):
        assert ping(client, job, method=method).status_code == 200
    job.refresh_from_db()
    assert job.state == "up"
    assert job.due_at - now >= timedelta(seconds=3599) and job.alert_after == job.due_at + timedelta(
        minutes=10
    )
    assert Ping.objects.filter(check_ref=job).count() == 3


def test_pings_need_no_login_and_no_csrf_token(job):
    response = Client(enforce_csrf_checks=True).post(
        f"/ping/{job.ping_key}", "done", content_type="text/plain"
    )
    assert response.status_code == 200 and response.content == b"OK\n"


def test_other_methods_are_refused(client, job):
    assert ping(client, job, method="put").status_code == 405
    assert ping(client, job, method="delete").status_code == 405


def test_a_start_then_success_measures_the_run_and_writes_it_as_a_metric(client, job):
    with time_machine.travel(datetime(2026, 5, 1, 1, 0, tzinfo=UTC), tick=False):
        ping(client, job, "/start")
    with time_machine.travel(datetime(2026, 5, 1, 1, 7, 30, tzinfo=UTC), tick=False):
        ping(client, job)
    job.refresh_from_db()
    assert job.last_duration == timedelta(minutes=7, seconds=30) and job.started_at is None
    assert Ping.objects.get(kind="success").duration == timedelta(minutes=7, seconds=30)
    metric = Metric.objects.get(name="check.duration")
    assert (metric.value, metric.unit, metric.source) == (450.0, "s", "nightly backup")


def test_fail_and_exit_statuses_raise_an_alert_and_success_resolves_it(client, job):
    component = Component.objects.create(name="Backups")
    job.component = component
    job.save()
    assert ping(client, job, "/3").status_code == 200
    job.refresh_from_db()
    alert = Alert.objects.get(fingerprint=job.fingerprint)
    assert job.state == "down" and alert.alert_type == "check" and "exited with status 3" in alert.message
    component.refresh_from_db()
    assert (component.status, component.status_source) == ("major_outage", "check")
    ping(client, job, "/fail")
    assert Alert.objects.filter(fingerprint=job.fingerprint).count() == 1
    ping(client, job, "/0")
    alert.refresh_from_db()
    component.refresh_from_db()
    assert alert.status == "resolved" and component.status == "operational"
    assert (
        Ping.objects.get(exit_status=3).kind == "fail" and Ping.objects.get(exit_status=0).kind == "success"
    )


def test_a_log_ping_is_recorded_and_changes_nothing(client, job):
    ping(client, job, "/log", method="post", data="rotated 3 files", content_type="text/plain")
    job.refresh_from_db()
    assert job.state == "new" and Ping.objects.get().body == "rotated 3 files"


def test_the_body_is_kept_up_to_ten_thousand_characters(client, job):
    ping(client, job, method="post", data="x" * 50_000, content_type="text/plain")
    assert len(Ping.objects.get().body) == MAX_BODY_CHARACTERS


def test_an_unknown_key_answers_the_same_short_404_as_a_near_miss(client, job):
    near = str(job.ping_key)[:-1] + ("0" if str(job.ping_key)[-1] != "0" else "1")
    answers = [client.get(f"/ping/{key}") for key in (uuid.uuid4(), near)]
    assert [a.status_code for a in answers] == [404, 404]
    assert answers[0].content == answers[1].content == b"not found\n"
    assert client.get("/ping/not-a-key/and-no-slug").status_code == 404


def test_an_exit_status_over_255_is_a_clear_400(client, job):
    response = ping(client, job, "/300")
    assert response.status_code == 400 and b"exit status 0-255" in response.content


def test_a_check_is_pinged_by_its_slug_under_the_projects_key(client):
    project = CheckProject.objects.create(name="ops")
    check = check_create(name="queue consumer", project=project, slug="queue-consumer")
    assert client.get(f"/ping/{project.ping_key}/queue-consumer/start").status_code == 200
    assert client.get(f"/ping/{project.ping_key}/queue-consumer").status_code == 200
    assert client.get(f"/ping/{project.ping_key}/other").status_code == 404
    check.refresh_from_db()
    assert check.state == "up"


def test_a_late_check_goes_down_after_its_grace_with_exactly_one_alert(client, job):
    with time_machine.travel(datetime(2026, 5, 1, 0, 0, tzinfo=UTC), tick=False):
        ping(client, job)
    assert checks_sweep(now=datetime(2026, 5, 1, 0, 59, tzinfo=UTC)) == {"late": 0, "down": 0}
    assert checks_sweep(now=datetime(2026, 5, 1, 1, 1, tzinfo=UTC)) == {"late": 1, "down": 0}
    job.refresh_from_db()
    assert job.state == "late" and not Alert.objects.exists()
    assert checks_sweep(now=datetime(2026, 5, 1, 1, 11, tzinfo=UTC)) == {"late": 0, "down": 1}
    assert checks_sweep(now=datetime(2026, 5, 1, 1, 20, tzinfo=UTC)) == {"late": 0, "down": 0}
    alert = Alert.objects.get()
    assert (
        "No ping since 2026-05-01 00:00:00 UTC" in alert.message and alert.title == "nightly backup is down"
    )


def test_a_run_that_started_and_never_finished_is_down_after_the_grace(client, job):
    with time_machine.travel(datetime(2026, 5, 1, 0, 0, tzinfo=UTC), tick=False):
        ping(client, job)
    with time_machine.travel(datetime(2026, 5, 1, 0, 30, tzinfo=UTC), tick=False):
        ping(client, job, "/start")
    assert checks_sweep(now=datetime(2026, 5, 1, 0, 39, tzinfo=UTC))["down"] == 0
    assert checks_sweep(now=datetime(2026, 5, 1, 0, 41, tzinfo=UTC))["down"] == 1
    assert "did not report success or failure" in Alert.objects.get().message


def test_a_nightly_cron_job_in_berlin_is_expected_at_two_local_across_dst(client):
    check = check_create(
        name="db dump", kind="cron", schedule="0 2 * * *", time_zone="Europe/Berlin", grace_seconds=3600
    )
    # Saturday before the spring change: the next 02:00 does not exist; cron runs it at 03:00.
    with time_machine.travel(datetime(2026, 3, 28, 2, 0, 20, tzinfo=BERLIN), tick=False):
        ping(client, check)
    check.refresh_from_db()
    assert check.due_at == datetime(2026, 3, 29, 3, 0, tzinfo=BERLIN)
    # Saturday before the autumn change: 02:00 comes once, in summer time (CEST).
    with time_machine.travel(datetime(2026, 10, 24, 2, 0, 20, tzinfo=BERLIN), tick=False):
        ping(client, check)
    check.refresh_from_db()
    assert check.due_at == datetime(2026, 10, 25, 0, 0, tzinfo=UTC)
    assert check.alert_after == datetime(2026, 10, 25, 1, 0, tzinfo=UTC)  # elapsed, not wall clock
    # The 02:00 run is missed: late at 02:00, down with one alert an hour later, never twice.
    assert checks_sweep(now=datetime(2026, 10, 25, 0, 30, tzinfo=UTC)) == {"late": 1, "down": 0}
    assert checks_sweep(now=datetime(2026, 10, 25, 1, 1, tzinfo=UTC))["down"] == 1
    assert checks_sweep(now=datetime(2026, 10, 25, 3, 0, tzinfo=UTC))["down"] == 0
    assert Alert.objects.filter(fingerprint=check.fingerprint).count() == 1


def test_a_paused_check_is_not_swept_and_its_next_ping_resumes_it(api, client, job):
    with time_machine.travel(datetime(2026, 5, 1, 0, 0, tzinfo=UTC), tick=False):
        ping(client, job)
    assert api.post(f"/api/operations/checks/{job.pk}/pause").json()["state"] == "paused"
    assert checks_sweep(now=datetime(2026, 5, 3, tzinfo=UTC)) == {"late": 0, "down": 0}
    ping(client, job)
    job.refresh_from_db()
    assert job.state == "up"


def test_the_api_creates_checks_and_refuses_bad_schedules_and_zones(api):
    created = api.post(
        "/api/operations/checks",
        {"name": "billing export", "kind": "cron", "schedule": "15 3 * * 1-5", "time_zone": "Europe/Berlin"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["ping_url"].endswith(f"/ping/{created.json()['ping_key']}")
    bad = api.post(
        "/api/operations/checks",
        {"name": "x", "kind": "cron", "schedule": "every day", "time_zone": "Mars/Olympus"},
        format="json",
    )
    assert bad.status_code == 400
    assert {"schedule", "time_zone"} <= set(bad.json()["errors"])
    state = api.patch(f"/api/operations/checks/{created.json()['id']}", {"state": "down"}, format="json")
    assert state.status_code == 200 and state.json()["state"] == "new"


def test_the_api_lists_a_checks_pings(api, client, job):
    ping(client, job, "/start")
    ping(client, job)
    pings = api.get(f"/api/operations/checks/{job.pk}/pings").json()["results"]
    assert [p["kind"] for p in pings] == ["success", "start"]


def test_the_admin_shows_the_ping_url_and_saves_through_the_services(admin_client_):
    form = {
        "name": "cert renewal",
        "kind": "simple",
        "period_seconds": "86400",
        "schedule": "0 * * * *",
        "time_zone": "UTC",
        "grace_seconds": "3600",
        "severity": "high",
        "slug": "",
        "description": "",
    }
    assert admin_client_.post("/admin/healthchecks/check/add/", form).status_code == 302
    check = Check.objects.get(name="cert renewal")
    page = admin_client_.get(f"/admin/healthchecks/check/{check.pk}/change/").content.decode()
    assert f"/ping/{check.ping_key}" in page
    form.update(kind="cron", schedule="not cron")
    page = admin_client_.post(f"/admin/healthchecks/check/{check.pk}/change/", form)
    assert page.status_code == 200 and "Not a cron expression" in page.content.decode()


def test_pings_are_throttled_per_client_address(client, job, settings):
    settings.PUBLIC_THROTTLE_RATES = {**settings.PUBLIC_THROTTLE_RATES, "ping": 3}
    codes = [ping(client, job, REMOTE_ADDR="203.0.113.9").status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert ping(client, job, REMOTE_ADDR="203.0.113.10").status_code == 200


def test_old_pings_are_purged(client, job, settings):
    settings.LOGS_RETENTION_DAYS = 7
    with time_machine.travel(timezone.now() - timedelta(days=8), tick=False):
        ping(client, job)
    ping(client, job)
    assert pings_purge() == {"check pings": 1}
    assert Ping.objects.count() == 1


def test_the_sweep_command_reports_what_it_found(job, capsys):
    call_command("sweep_checks")
    assert "0 check(s) now late, 0 now down" in capsys.readouterr().out


def test_a_slug_taken_in_the_project_is_a_clear_400(api):
    project = CheckProject.objects.create(name="ops")
    body = {"name": "a", "project": project.pk, "slug": "nightly"}
    assert api.post("/api/operations/checks", body, format="json").status_code == 201
    again = api.post("/api/operations/checks", {**body, "name": "b"}, format="json")
    assert again.status_code == 400 and Check.objects.count() == 1


def test_only_jobs_that_beat_sent_report_to_their_built_in_check(settings):
    from types import SimpleNamespace

    from config.beat_reports import beat_job_report

    assert settings.CELERY_BEAT_SCHEDULE["evaluate_alerts"]["options"]["headers"] == {
        "beat_job": "evaluate_alerts"
    }
    assert beat_job_report(SimpleNamespace(request=SimpleNamespace())) is None
    assert not Check.objects.exists()
    settings.BUILTIN_CHECKS_MIN_GRACE = 300
    assert (
        beat_job_report(SimpleNamespace(request=SimpleNamespace(beat_job="evaluate_alerts")))
        == "evaluate_alerts"
    )
    check = Check.objects.get(builtin_job="evaluate_alerts")
    assert (check.state, check.period_seconds, check.grace_seconds) == ("up", 30, 300)
    beat_job_report(SimpleNamespace(request=SimpleNamespace(beat_job="evaluate_alerts")))
    assert Check.objects.count() == 1 and check.pings.count() == 2
