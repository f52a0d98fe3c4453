"""Probe rounds against real loopback servers: results, metrics, debounce, status, alerts."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django.utils.text import slugify

from alerts.models import Alert
from healthchecks.models import Probe, ProbeResult
from healthchecks.probes.services import probes_claim_due, probes_run_due
from monitoring.models import Metric
from statuspage.models import ComponentStatus, ComponentStatusChange, StatusSource
from statuspage.services import component_set_status, maintenance_schedule, maintenance_start
from tests.healthchecks.factories import ProbeFactory

pytestmark = pytest.mark.django_db


def tick(rounds: int = 1):
    """Make every probe due and run a round, `rounds` times."""
    summary = None
    for _ in range(rounds):
        Probe.objects.update(next_due_at=timezone.now())
        summary = probes_run_due()
    return summary


def status_of(probe) -> str:
    probe.component.refresh_from_db()
    return probe.component.status


def test_it_stores_each_result_and_its_metrics(target):
    probe = ProbeFactory(component__health_check_url=target.url("/ok"))
    summary = tick()
    assert (summary.claimed, summary.ok) == (1, 1)
    result = ProbeResult.objects.get()
    assert (result.probe_id, result.ok, result.status_code) == (probe.pk, True, 200)
    up = Metric.objects.get(name="probe.up")
    latency = Metric.objects.get(name="probe.response_time")
    assert (up.value, up.category, up.source) == (1.0, "availability", slugify(probe.component.name))
    assert (latency.unit, latency.category, latency.value) == ("ms", "response_time", result.latency_ms)
    assert latency.tags["component_id"] == probe.component_id


def test_it_turns_major_outage_after_the_configured_failures_and_raises_one_alert(target):
    probe = ProbeFactory(component__health_check_url=target.url("/ok"), failures_before_down=3)
    tick()
    target.overrides["/ok"] = 500
    tick(2)
    assert status_of(probe) == ComponentStatus.OPERATIONAL
    assert not Alert.objects.exists()
    tick()
    assert status_of(probe) == ComponentStatus.MAJOR_OUTAGE
    tick(2)  # still failing: no second alert, no second change
    alert = Alert.objects.get()
    assert (alert.fingerprint, alert.alert_type, alert.component_id) == (
        f"probe:{probe.component_id}",
        "probe",
        probe.component_id,
    )
    change = ComponentStatusChange.objects.get(to_status=ComponentStatus.MAJOR_OUTAGE)
    assert change.source == StatusSource.PROBE
    assert "HTTP 500" in change.note


def test_it_recovers_after_the_configured_successes_and_resolves_the_alert(target):
    probe = ProbeFactory(component__health_check_url=target.url("/ok"), failures_before_down=2)
    target.overrides["/ok"] = 500
    tick(2)
    assert status_of(probe) == ComponentStatus.MAJOR_OUTAGE
    del target.overrides["/ok"]
    tick()
    assert status_of(probe) == ComponentStatus.MAJOR_OUTAGE  # one success is not enough
    tick()
    assert status_of(probe) == ComponentStatus.OPERATIONAL
    assert Alert.objects.get().status == Alert.Status.RESOLVED
    sources = set(ComponentStatusChange.objects.values_list("source", flat=True))
    assert sources == {StatusSource.PROBE}


def test_it_damps_a_flapping_endpoint(target):
    probe = ProbeFactory(component__health_check_url=target.url("/ok"))
    for _ in range(4):
        target.overrides["/ok"] = 500
        tick(2)
        del target.overrides["/ok"]
        tick()
    assert status_of(probe) == ComponentStatus.OPERATIONAL
    assert not ComponentStatusChange.objects.exists()
    assert not Alert.objects.exists()
    assert ProbeResult.objects.filter(ok=False).count() == 8


def test_it_marks_a_slow_component_degraded_and_back(target):
    # Wide margins (0.6 s against 300 ms): the fast answers must stay fast on a loaded machine.
    target.slow_seconds = 0.6
    probe = ProbeFactory(component__health_check_url=target.url("/slow"), degraded_latency_ms=300)
    tick(2)
    assert status_of(probe) == ComponentStatus.OPERATIONAL
    tick()
    assert status_of(probe) == ComponentStatus.DEGRADED_PERFORMANCE
    assert not Alert.objects.exists()  # slow is not down
    target.slow_seconds = 0
    tick()
    assert status_of(probe) == ComponentStatus.DEGRADED_PERFORMANCE
    tick()
    assert status_of(probe) == ComponentStatus.OPERATIONAL


def test_it_counts_timeouts_and_refused_connections_as_failures(closed_port):
    from tests.healthchecks.servers import silent_port

    sock, port = silent_port()
    try:
        hung = ProbeFactory(component__health_check_url=f"http://127.0.0.1:{port}/", timeout_seconds=0.3)
        refused = ProbeFactory(component__health_check_url=f"http://127.0.0.1:{closed_port}/")
        tick(3)
    finally:
        sock.close()
    assert status_of(hung) == status_of(refused) == ComponentStatus.MAJOR_OUTAGE
    assert set(ProbeResult.objects.filter(probe=hung).values_list("error", flat=True)) == {
        "timed out after 0.3 s"
    }
    assert set(ProbeResult.objects.filter(probe=refused).values_list("error", flat=True)) == {
        "connection refused"
    }
    assert Alert.objects.count() == 2


def test_it_fails_a_wrong_keyword(target):
    probe = ProbeFactory(
        component__health_check_url=target.url("/text"), keyword="welcome", failures_before_down=1
    )
    tick()
    assert status_of(probe) == ComponentStatus.MAJOR_OUTAGE
    assert Probe.objects.get().last_error == "keyword 'welcome' not found in the response"


def test_it_leaves_a_component_under_maintenance_alone(target):
    probe = ProbeFactory(component__health_check_url=target.url("/fail"), failures_before_down=1)
    now = timezone.now()
    window = maintenance_schedule(
        title="DB upgrade",
        scheduled_for=now + timedelta(minutes=1),
        scheduled_until=now + timedelta(hours=1),
        components=[probe.component],
        notify=False,
    )
    maintenance_start(maintenance=window)
    tick(2)
    assert status_of(probe) == ComponentStatus.UNDER_MAINTENANCE
    alert = Alert.objects.get()
    assert alert.suppressed_reason == "component under maintenance"  # recorded, not paged


def test_it_respects_a_manual_status(target):
    probe = ProbeFactory(component__health_check_url=target.url("/ok"))
    component_set_status(component=probe.component, status=ComponentStatus.PARTIAL_OUTAGE, note="by hand")
    tick(3)
    assert status_of(probe) == ComponentStatus.PARTIAL_OUTAGE


def test_it_holds_even_an_operational_manual_status_until_the_hold_ends(target):
    probe = ProbeFactory(component__health_check_url=target.url("/fail"), failures_before_down=1)
    component_set_status(component=probe.component, status=ComponentStatus.OPERATIONAL, note="by hand")
    Probe.objects.update(manual_hold_until=timezone.now() + timedelta(hours=1))
    tick(2)
    assert status_of(probe) == ComponentStatus.OPERATIONAL


def test_it_takes_over_once_a_manual_hold_expires(target):
    probe = ProbeFactory(component__health_check_url=target.url("/ok"))
    component_set_status(component=probe.component, status=ComponentStatus.MAJOR_OUTAGE, note="by hand")
    Probe.objects.update(manual_hold_until=timezone.now() - timedelta(seconds=1))
    tick(2)
    assert status_of(probe) == ComponentStatus.OPERATIONAL
    assert Probe.objects.get().manual_hold_until is None
    last = ComponentStatusChange.objects.first()
    assert last.note.startswith("manual hold expired")


def test_it_holds_back_the_alerts_of_dependents_of_a_down_component(target):
    database = ProbeFactory(component__name="Database", component__health_check_url=target.url("/db"))
    api = ProbeFactory(component__name="API", component__health_check_url=target.url("/api"))
    web = ProbeFactory(component__name="Web", component__health_check_url=target.url("/web"))
    api.component.depends_on.add(database.component)
    web.component.depends_on.add(api.component)  # transitively on the database
    for path in ("/db", "/api", "/web"):
        target.overrides[path] = 503
    tick(3)
    alerts = {a.component.name: a for a in Alert.objects.select_related("component")}
    assert alerts["Database"].suppressed_reason == ""
    assert alerts["API"].suppressed_reason == "depends on Database, which is down"
    assert alerts["Web"].suppressed_reason == "depends on Database, which is down"
    # Their probes keep running and their recovery is still recorded.
    for path in ("/db", "/api", "/web"):
        del target.overrides[path]
    tick(2)
    assert status_of(api) == status_of(web) == ComponentStatus.OPERATIONAL
    assert set(Alert.objects.values_list("status", flat=True)) == {Alert.Status.RESOLVED}


def test_it_runs_only_due_and_enabled_probes(target):
    due = ProbeFactory(component__health_check_url=target.url("/ok"))
    ProbeFactory(
        component__health_check_url=target.url("/ok"), next_due_at=timezone.now() + timedelta(minutes=1)
    )
    ProbeFactory(component__health_check_url=target.url("/ok"), enabled=False)
    ProbeFactory(component__health_check_url="")
    summary = probes_run_due()
    assert summary.claimed == 1
    assert list(ProbeResult.objects.values_list("probe_id", flat=True)) == [due.pk]
    due.refresh_from_db()
    assert due.next_due_at > timezone.now() + timedelta(seconds=25)
    assert probes_run_due().claimed == 0


def test_it_claims_a_probe_only_once(target):
    ProbeFactory(component__health_check_url=target.url("/ok"))
    assert len(probes_claim_due()) == 1
    assert probes_claim_due() == []


def test_it_runs_from_the_management_command(target, capsys):
    ProbeFactory(component__health_check_url=target.url("/ok"))
    call_command("run_probes")
    assert "1 probes in" in capsys.readouterr().out
    assert ProbeResult.objects.count() == 1


def test_it_keeps_url_credentials_out_of_the_metrics(target):
    ProbeFactory(component__health_check_url=target.url("/ok").replace("://", "://probe:s3cret@"))
    tick()
    endpoints = set(Metric.objects.values_list("endpoint", flat=True))
    assert endpoints == {target.url("/ok")}


def test_it_is_a_beat_job_every_health_check_interval(target):
    from config.celery import BEAT_JOBS
    from healthchecks.tasks import run_probes

    assert BEAT_JOBS["run_probes"] == ("healthchecks.tasks.run_probes", "HEALTH_CHECK_INTERVAL")
    ProbeFactory(component__health_check_url=target.url("/ok"))
    assert run_probes().startswith("1 probes in")
