from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from alerts.models import Alert
from config.dashboard import dashboard_data
from statuspage import services as status_services
from statuspage.models import IncidentStatus, MaintenanceStatus
from tests.alerts.factories import AlertFactory
from tests.backups.factories import BackupVerificationFactory
from tests.config.factories import failed_delivery, ops_world, role_user
from tests.monitoring.factories import MetricFactory
from tests.reports.factories import ObjectiveFactory
from tests.statuspage.factories import ComponentFactory, MaintenanceFactory

pytestmark = pytest.mark.django_db


def test_it_builds_every_panel():
    world = ops_world()
    data = dashboard_data()
    assert data["status"]["indicator"] in ("minor", "major", "critical")
    assert data["alerts"]["by_severity"]["critical"]["firing"] == 1
    assert data["alerts"]["items"][0]["id"] == world["alert"].pk
    assert [i["id"] for i in data["incidents"]["items"]] == [world["incident"].pk]
    assert [m["id"] for m in data["maintenance"]["in_progress"]] == [world["active_maintenance"].pk]
    assert [m["id"] for m in data["maintenance"]["upcoming"]] == [world["maintenance"].pk]
    assert data["deliveries"]["items"][0]["last_error"] == "550 no such user"
    assert data["probes"] == {"failing": []}
    assert set(data["charts"]["charts"]) == {"cpu", "memory", "response_time_p95", "error_rate"}


def test_it_puts_firing_critical_alerts_first():
    AlertFactory(severity="low")
    acknowledged = AlertFactory(severity="critical", status=Alert.Status.ACKNOWLEDGED)
    critical = AlertFactory(severity="critical")
    AlertFactory(severity="high")
    items = dashboard_data()["alerts"]["items"]
    assert items[0]["id"] == critical.pk and items[-1]["id"] == acknowledged.pk


def test_it_charts_the_last_24_hours_from_metrics():
    now = timezone.now()
    MetricFactory(name="system.cpu_percent", value=40, timestamp=now - timedelta(hours=2))
    MetricFactory(
        name="http.server.duration",
        metric_type="performance",
        category="response_time",
        value=120,
        timestamp=now - timedelta(hours=1),
        tags={"count": 10, "errors": 1},
    )
    charts = dashboard_data(now=now)["charts"]["charts"]
    assert len(charts["cpu"]["points"]) == 24
    assert 40 in [p["value"] for p in charts["cpu"]["points"]]
    assert 10.0 in [p["value"] for p in charts["error_rate"]["points"]]
    assert any(p["value"] for p in charts["response_time_p95"]["points"])


def _page_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return len(queries)


def test_it_costs_the_same_queries_with_many_rows(client):
    ops_world()
    client.force_login(role_user("operator"))
    _page_queries(client)  # the first load creates the config row and warms Django's caches
    few = _page_queries(client)
    for n in range(15):
        AlertFactory(severity=["critical", "high", "medium", "low"][n % 4])
        component = ComponentFactory(status="degraded_performance")
        status_services.incident_create(
            title=f"Incident {n}", message="x", components={component: "major_outage"}
        )
        MaintenanceFactory()
        failed_delivery(n=n + 100)
    assert _page_queries(client) == few
    assert few < 40


def test_it_answers_the_api_with_the_same_data():
    world = ops_world()
    client = APIClient()
    client.force_authenticate(role_user("viewer"))
    data = client.get("/api/operations/dashboard").json()
    assert data["alerts"]["items"][0]["id"] == world["alert"].pk
    assert set(data) >= {"status", "alerts", "incidents", "maintenance", "probes", "deliveries", "charts"}


def test_it_shows_the_dashboard_with_charts_and_buttons(client):
    ops_world()
    client.force_login(role_user("operator"))
    page = client.get(reverse("admin:index")).content.decode()
    assert 'id="vigil-dashboard"' in page and page.count('class="vigil-chart"') == 4
    assert "Acknowledge" in page and "Post update" in page and "Start now" in page and "Complete" in page
    assert "All probes passing." in page
    assert "console/dashboard.js" in page


def test_it_hides_the_buttons_from_viewers(client):
    ops_world()
    client.force_login(role_user("viewer"))
    page = client.get(reverse("admin:index")).content.decode()
    assert 'id="vigil-dashboard"' in page
    assert ">Acknowledge</button>" not in page and "Start now" not in page


def test_it_acknowledges_and_resolves_from_the_dashboard(client):
    world = ops_world()
    client.force_login(role_user("operator"))
    response = client.post(reverse("console-alert-acknowledge", args=[world["alert"].pk]), follow=True)
    world["alert"].refresh_from_db()
    assert world["alert"].status == Alert.Status.ACKNOWLEDGED
    assert "acknowledged" in str(list(response.context["messages"])[0])
    client.post(reverse("console-alert-resolve", args=[world["alert"].pk]))
    world["alert"].refresh_from_db()
    assert world["alert"].status == Alert.Status.RESOLVED


def test_it_reports_a_refused_transition_as_a_message(client):
    world = ops_world()
    client.force_login(role_user("operator"))
    client.post(reverse("console-alert-resolve", args=[world["alert"].pk]))
    response = client.post(reverse("console-alert-acknowledge", args=[world["alert"].pk]), follow=True)
    assert "Only a firing alert" in str(list(response.context["messages"])[-1])


def test_it_starts_and_completes_maintenance_from_the_dashboard(client):
    world = ops_world()
    client.force_login(role_user("operator"))
    client.post(reverse("console-maintenance-start", args=[world["maintenance"].pk]))
    world["maintenance"].refresh_from_db()
    assert world["maintenance"].status == MaintenanceStatus.IN_PROGRESS
    client.post(reverse("console-maintenance-complete", args=[world["maintenance"].pk]))
    world["maintenance"].refresh_from_db()
    assert world["maintenance"].status == MaintenanceStatus.COMPLETED


def test_it_posts_an_incident_update_from_the_dashboard(client):
    world = ops_world()
    client.force_login(role_user("operator"))
    client.post(
        reverse("console-incident-update", args=[world["incident"].pk]),
        {"status": "identified", "message": "A bad deploy; rolling back."},
    )
    world["incident"].refresh_from_db()
    assert world["incident"].status == IncidentStatus.IDENTIFIED
    assert world["incident"].updates.filter(body="A bad deploy; rolling back.").exists()


def test_it_refuses_an_update_without_a_message(client):
    world = ops_world()
    client.force_login(role_user("operator"))
    response = client.post(
        reverse("console-incident-update", args=[world["incident"].pk]), {"status": "identified"}, follow=True
    )
    assert "needs a status and a message" in str(list(response.context["messages"])[0])
    assert world["incident"].updates.count() == 1


def test_it_refuses_quick_actions_to_viewers(client):
    world = ops_world()
    client.force_login(role_user("viewer"))
    response = client.post(reverse("console-alert-acknowledge", args=[world["alert"].pk]))
    assert response.status_code == 403
    world["alert"].refresh_from_db()
    assert world["alert"].status == Alert.Status.FIRING


def test_it_accepts_only_post_for_quick_actions(client):
    world = ops_world()
    client.force_login(role_user("operator"))
    assert client.get(reverse("console-alert-resolve", args=[world["alert"].pk])).status_code == 405


def test_it_tells_staff_without_a_role_what_to_ask_for(client):
    client.force_login(role_user("staff"))
    page = client.get(reverse("admin:index")).content.decode()
    assert 'id="vigil-no-role"' in page and 'id="vigil-dashboard"' not in page


@pytest.mark.django_db(transaction=True)  # on_commit callbacks run for real
def test_it_acknowledges_even_when_the_broker_is_down(client, monkeypatch):
    from alerts import notify

    def broker_down(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(notify.notify_alerts, "delay", broker_down)
    world = ops_world()
    client.force_login(role_user("operator"))
    response = client.post(reverse("console-alert-acknowledge", args=[world["alert"].pk]))
    assert response.status_code == 302
    world["alert"].refresh_from_db()
    assert world["alert"].status == Alert.Status.ACKNOWLEDGED


def test_it_lists_failing_probes():
    from tests.healthchecks.factories import ProbeFactory

    probe = ProbeFactory(last_ok=False, last_error="timed out after 5 s")
    ProbeFactory(last_ok=True)
    (failing,) = dashboard_data()["probes"]["failing"]
    assert (failing["id"], failing["error"]) == (probe.pk, "timed out after 5 s")
    assert failing["name"] == probe.component.name


def test_it_shows_the_objectives_and_the_last_verified_backup(client):
    component = ComponentFactory()
    ObjectiveFactory(name="Checkout availability", component=component)
    BackupVerificationFactory(backup__started_at=timezone.now() - timedelta(hours=3))
    panel = dashboard_data()["service_levels"]
    [objective] = panel["objectives"]
    assert objective["name"] == "Checkout availability" and objective["target_percentage"] == 99.9
    assert panel["backup"]["fresh"] and 3 * 3600 - 60 <= panel["backup"]["age_seconds"] <= 3 * 3600 + 60
    client.force_login(role_user("viewer"))
    page = client.get(reverse("admin:index")).content.decode()
    assert "Checkout availability" in page and "Last verified backup: 3" in page


def test_it_flags_a_missing_backup():
    assert dashboard_data()["service_levels"]["backup"] == {
        "last_verified_at": None,
        "age_seconds": None,
        "max_age_hours": 26,
        "fresh": False,
        "changelist_url": "/admin/backups/backup/",
    }
