"""Staff API: probe CRUD and hold, system status, one service's health history."""

from datetime import timedelta

import pytest
from django.utils import timezone

from healthchecks.models import Probe, ProbeResult
from statuspage.models import ComponentStatus, ComponentStatusChange, StatusSource
from tests.healthchecks.factories import ProbeFactory
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db


def test_it_creates_a_probe_and_sets_the_components_url(api):
    component = ComponentFactory()
    response = api.post(
        "/api/operations/probes",
        {
            "component": component.pk,
            "url": "https://api.example.com/health",
            "expected_status_codes": [200, 204],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["url"] == "https://api.example.com/health"
    assert (body["interval_seconds"], body["failures_before_down"], body["successes_before_up"]) == (30, 3, 2)
    component.refresh_from_db()
    assert component.health_check_url == "https://api.example.com/health"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"url": "ftp://example.com/x"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"timeout_seconds": "soon"}, "timeout_seconds"),
        ({"timeout_seconds": 31}, "timeout_seconds"),
        ({"interval_seconds": 1}, "interval_seconds"),
        ({"failures_before_down": 0}, "failures_before_down"),
        ({"successes_before_up": 1000}, "successes_before_up"),
        ({"degraded_latency_ms": -5}, "degraded_latency_ms"),
        ({"expected_status_codes": [99]}, "expected_status_codes"),
        ({"expected_status_codes": []}, "expected_status_codes"),
        ({"method": "DELETE"}, "method"),
        ({"json_value": "ok"}, "json_value"),
    ],
)
def test_it_rejects_bad_settings_naming_the_field(api, payload, field):
    component = ComponentFactory(health_check_url="http://127.0.0.1:9/ok")
    response = api.post("/api/operations/probes", {"component": component.pk, **payload}, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_it_needs_a_url_when_the_component_has_none(api):
    response = api.post("/api/operations/probes", {"component": ComponentFactory().pk}, format="json")
    assert response.status_code == 400
    assert "url" in response.json()["errors"]


def test_it_allows_one_probe_per_component(api):
    probe = ProbeFactory()
    response = api.post("/api/operations/probes", {"component": probe.component_id}, format="json")
    assert response.status_code == 400
    assert "component" in response.json()["errors"]


def test_it_updates_settings_and_makes_the_probe_due(api):
    probe = ProbeFactory(next_due_at=timezone.now() + timedelta(hours=1))
    response = api.patch(f"/api/operations/probes/{probe.pk}", {"timeout_seconds": 1.5}, format="json")
    assert response.status_code == 200, response.json()
    probe.refresh_from_db()
    assert probe.timeout_seconds == 1.5
    assert probe.next_due_at <= timezone.now()


def test_it_lists_and_deletes_probes(api):
    probe = ProbeFactory()
    assert api.get("/api/operations/probes").json()["count"] == 1
    assert api.delete(f"/api/operations/probes/{probe.pk}").status_code == 204
    assert not Probe.objects.exists()


def test_it_is_for_staff_only(client, django_user_model):
    assert client.get("/api/operations/probes").status_code in (401, 403)
    assert client.get("/api/operations/system/status").status_code in (401, 403)
    user = django_user_model.objects.create_user("visitor", password="pw-visitor-1")
    client.force_login(user)
    assert client.get("/api/operations/system/health/1").status_code == 403


def test_it_holds_a_status_by_hand_until_a_time(api, staff_user):
    probe = ProbeFactory()
    until = timezone.now() + timedelta(hours=2)
    response = api.post(
        f"/api/operations/probes/{probe.pk}/hold",
        {"status": "partial_outage", "until": until.isoformat(), "note": "known issue"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["component_status"] == "partial_outage"
    change = ComponentStatusChange.objects.get()
    assert (change.source, change.actor_id) == (StatusSource.MANUAL, staff_user.pk)
    assert Probe.objects.get().manual_hold_until == until


def test_it_refuses_a_hold_that_ends_in_the_past(api):
    probe = ProbeFactory()
    past = (timezone.now() - timedelta(minutes=1)).isoformat()
    response = api.post(f"/api/operations/probes/{probe.pk}/hold", {"status": "major_outage", "until": past})
    assert response.status_code == 400
    assert "until" in response.json()["errors"]


def test_it_shows_every_services_current_health(api):
    probe = ProbeFactory(component__name="REST API", last_ok=False, is_down=True, last_error="HTTP 500")
    ComponentFactory(name="Docs", status=ComponentStatus.OPERATIONAL)
    probe.component.status = ComponentStatus.MAJOR_OUTAGE
    probe.component.save()
    body = api.get("/api/operations/system/status").json()
    assert body["status"] == "major_outage"
    assert body["summary"]["probes_down"] == 1
    services = {s["slug"]: s for s in body["services"]}
    assert services["rest-api"]["probe"]["last_error"] == "HTTP 500"
    assert services["docs"]["probe"] is None


def _history_fixture():
    probe = ProbeFactory(component__name="REST API")
    now = timezone.now()
    ProbeResult.objects.bulk_create(
        [
            ProbeResult(probe=probe, checked_at=now - timedelta(minutes=m), ok=m % 4 != 0, latency_ms=10 + m)
            for m in range(1, 41)
        ]
        + [ProbeResult(probe=probe, checked_at=now - timedelta(hours=30), ok=False)]
    )
    ComponentStatusChange.objects.create(
        component=probe.component,
        from_status="operational",
        to_status="major_outage",
        at=now - timedelta(hours=2, minutes=24),
        source="probe",
    )
    ComponentStatusChange.objects.create(
        component=probe.component,
        from_status="major_outage",
        to_status="operational",
        at=now - timedelta(hours=1),
        source="probe",
    )
    return probe


def test_it_shows_a_services_probe_history_and_uptime(api):
    probe = _history_fixture()
    body = api.get(f"/api/operations/system/health/{probe.component_id}?hours=24").json()
    assert body["checks"]["total"] == 40
    assert body["checks"]["failed"] == 10
    assert body["checks"]["availability_percent"] == 75.0
    assert len(body["results"]) == 40
    assert body["results"][0]["latency_ms"] == 11
    # Down 1 h 24 min of 24 h.
    assert body["uptime_percent"] == pytest.approx(100 * (1 - 84 / 1440), abs=0.01)
    assert [c["to_status"] for c in body["status_changes"]] == ["major_outage", "operational"]


def test_it_finds_a_service_by_slug(api):
    probe = _history_fixture()
    body = api.get("/api/operations/system/health/rest-api?hours=48").json()
    assert body["service"]["id"] == probe.component_id
    assert body["checks"]["total"] == 41


@pytest.mark.parametrize("hours", ["0", "721", "soon", "-3"])
def test_it_rejects_bad_hours(api, hours):
    probe = ProbeFactory()
    response = api.get(f"/api/operations/system/health/{probe.component_id}", {"hours": hours})
    assert response.status_code == 400
    assert "hours" in response.json()["errors"]


def test_it_answers_404_for_an_unknown_service(api):
    assert api.get("/api/operations/system/health/nowhere").status_code == 404
    assert api.get("/api/operations/system/health/999999").status_code == 404


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "tcp", "host": "db.example.com"}, "port"),
        ({"kind": "dns"}, "host"),
        ({"kind": "dns", "host": "example.com", "record_type": "SRVX"}, "record_type"),
        ({"kind": "tcp", "host": "db.example.com", "port": 70000}, "port"),
        ({"kind": "dns", "host": "example.com", "nameserver": "not-an-ip"}, "nameserver"),
        ({"kind": "dns", "host": "example.com", "expected_values": "1.2.3.4"}, "expected_values"),
        ({"kind": "smtp", "host": "example.com"}, "kind"),
    ],
)
def test_it_refuses_bad_kind_fields_naming_the_field(api, payload, field):
    component = ComponentFactory(health_check_url="")
    response = api.post("/api/operations/probes", {"component": component.pk, **payload}, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_it_adds_a_tcp_probe_beside_the_http_probe(api):
    probe = ProbeFactory()
    payload = {"component": probe.component_id, "kind": "tcp", "host": "db.example.com", "port": 5432}
    response = api.post("/api/operations/probes", payload, format="json")
    assert response.status_code == 201, response.json()
    assert (response.json()["kind"], response.json()["port"]) == ("tcp", 5432)
    assert probe.component.probes.count() == 2


def test_it_keeps_a_probes_kind_on_update(api):
    probe = ProbeFactory()
    response = api.patch(f"/api/operations/probes/{probe.pk}", {"kind": "tcp"}, format="json")
    assert response.status_code == 200
    probe.refresh_from_db()
    assert probe.kind == "http"


@pytest.mark.parametrize("host", ["169.254.169.254", "http://db.example.com", "db.example.com:5432", "a b"])
def test_it_refuses_a_host_probes_may_not_use(api, host):
    component = ComponentFactory(health_check_url="")
    payload = {"component": component.pk, "kind": "tcp", "host": host, "port": 80}
    response = api.post("/api/operations/probes", payload, format="json")
    assert response.status_code == 400
    assert "host" in response.json()["errors"]
