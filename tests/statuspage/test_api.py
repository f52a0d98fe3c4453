from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from statuspage import services
from statuspage.models import Component, Incident, Maintenance
from tests.statuspage.factories import ComponentFactory, ComponentGroupFactory

pytestmark = pytest.mark.django_db

COMPONENT_KEYS = {
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "position",
    "description",
    "showcase",
    "start_date",
    "group_id",
    "page_id",
    "group",
    "only_show_if_degraded",
}
INCIDENT_KEYS = {
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "monitoring_at",
    "resolved_at",
    "impact",
    "shortlink",
    "started_at",
    "page_id",
    "incident_updates",
    "components",
}
UPDATE_KEYS = {
    "id",
    "status",
    "body",
    "incident_id",
    "created_at",
    "updated_at",
    "display_at",
    "affected_components",
    "deliver_notifications",
    "custom_tweet",
    "tweet_id",
}


@pytest.fixture
def world():
    group = ComponentGroupFactory(name="Web")
    api = ComponentFactory(name="API", group=group)
    ComponentFactory(name="Website", group=group)
    ComponentFactory(name="SSO")
    incident = services.incident_create(title="API down", message="Looking", components={api: "major_outage"})
    start = timezone.now() + timedelta(days=1)
    upcoming = services.maintenance_schedule(
        title="Upgrade", scheduled_for=start, scheduled_until=start + timedelta(hours=1), components=[api]
    )
    return {"api": api, "incident": incident, "upcoming": upcoming}


# --- Statuspage v2 -------------------------------------------------------------------------


def test_it_serves_summary_in_the_statuspage_shape(client, world):
    body = client.get("/api/v2/summary.json").json()
    assert set(body) == {"page", "components", "incidents", "scheduled_maintenances", "status"}
    assert set(body["page"]) == {"id", "name", "url", "time_zone", "updated_at"}
    assert body["status"] == {"indicator": "critical", "description": "Major System Outage"}
    assert set(body["components"][0]) >= COMPONENT_KEYS
    incident = body["incidents"][0]
    assert set(incident) >= INCIDENT_KEYS
    assert set(incident["incident_updates"][0]) >= UPDATE_KEYS
    assert incident["impact"] == "critical" and incident["status"] == "investigating"
    assert body["scheduled_maintenances"][0]["scheduled_for"].endswith("Z")


def test_it_lists_groups_with_their_member_ids(client, world):
    components = client.get("/api/v2/components.json").json()["components"]
    group = next(c for c in components if c["group"])
    members = [c for c in components if c["group_id"] == group["id"]]
    assert group["components"] == [c["id"] for c in members]
    assert group["status"] == "major_outage"


def test_it_serves_status_json(client, world):
    body = client.get("/api/v2/status.json").json()
    assert body["status"]["indicator"] == "critical"
    assert body["page"]["time_zone"] == "Etc/UTC"


def test_it_filters_unresolved_incidents(client, world):
    services.incident_create(title="Old", message="gone", status="resolved")
    assert len(client.get("/api/v2/incidents.json").json()["incidents"]) == 2
    unresolved = client.get("/api/v2/incidents/unresolved.json").json()["incidents"]
    assert [i["name"] for i in unresolved] == ["API down"]


def test_it_splits_scheduled_maintenances_into_upcoming_and_active(client, world):
    services.maintenance_start(maintenance=world["upcoming"])
    start = timezone.now() + timedelta(days=2)
    services.maintenance_schedule(
        title="Later", scheduled_for=start, scheduled_until=start + timedelta(hours=1)
    )
    assert len(client.get("/api/v2/scheduled-maintenances.json").json()["scheduled_maintenances"]) == 2
    upcoming = client.get("/api/v2/scheduled-maintenances/upcoming.json").json()["scheduled_maintenances"]
    active = client.get("/api/v2/scheduled-maintenances/active.json").json()["scheduled_maintenances"]
    assert [m["name"] for m in upcoming] == ["Later"]
    assert [(m["name"], m["status"], m["impact"]) for m in active] == [
        ("Upgrade", "in_progress", "maintenance")
    ]


def test_it_lets_widgets_on_other_origins_read_the_v2_api(client, world):
    assert client.get("/api/v2/status.json")["Access-Control-Allow-Origin"] == "*"


# --- Vigil's public paths ---------------------------------------------------------------------


def test_it_serves_the_public_status_and_incidents(client, world):
    assert client.get("/api/status").json()["status"]["indicator"] == "critical"
    listing = client.get("/api/status/incidents").json()
    assert listing["count"] == 1
    detail = client.get(f"/api/status/incidents/{world['incident'].pk}").json()["incident"]
    assert detail["name"] == "API down"


def test_it_answers_404_for_an_unknown_incident_and_page(client, world):
    assert client.get("/api/status/incidents/9999").json() == {"detail": "Not found."}
    assert client.get("/api/status/incidents?page=7").status_code == 404
    assert client.get("/api/status/incidents?page=x").status_code == 400


# --- staff writes ----------------------------------------------------------------------------


def test_it_refuses_anonymous_staff_writes(client, world):
    response = client.post("/api/status/admin/incidents", {"title": "x", "message": "y"})
    assert response.status_code in (401, 403)


def test_it_refuses_staff_without_the_model_permission(django_user_model, world):
    from rest_framework.authtoken.models import Token

    plain = django_user_model.objects.create_user("plain", "plain@example.com", "pw-plain-123", is_staff=True)
    client = APIClient(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=plain).key}")
    response = client.put(f"/api/status/admin/components/{world['api'].pk}/status", {"status": "operational"})
    assert response.status_code == 403


def test_it_accepts_a_token_with_the_permission(staff_user, staff_token, world):
    from django.contrib.auth.models import Permission

    staff_user.user_permissions.add(Permission.objects.get(codename="change_component"))
    client = APIClient(HTTP_AUTHORIZATION=f"Token {staff_token}")
    response = client.put(
        f"/api/status/admin/components/{world['api'].pk}/status",
        {"status": "degraded_performance"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "degraded_performance"


def test_it_lists_and_creates_components(operator_client):
    response = operator_client.post(
        "/api/status/admin/components", {"name": "Search", "type": "service"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["status"] == "operational"
    assert operator_client.get("/api/status/admin/components").json()["count"] == 1


def test_it_names_the_field_of_bad_component_input(operator_client, world):
    response = operator_client.put(
        f"/api/status/admin/components/{world['api'].pk}/status", {"status": "on_fire"}, format="json"
    )
    assert response.status_code == 400
    assert "status" in response.json()["errors"]


def test_it_answers_404_for_an_unknown_component(operator_client):
    response = operator_client.put("/api/status/admin/components/999/status", {"status": "operational"})
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_it_opens_an_incident_over_the_api(operator_client, world):
    website = Component.objects.get(name="Website")
    response = operator_client.post(
        "/api/status/admin/incidents",
        {"title": "Slow site", "message": "Looking", "components": {str(website.pk): "partial_outage"}},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()["incident"]
    assert (body["status"], body["impact"]) == ("investigating", "major")
    assert body["incident_updates"][0]["affected_components"][0]["new_status"] == "partial_outage"


def test_it_names_an_unknown_component_in_incident_input(operator_client):
    response = operator_client.post(
        "/api/status/admin/incidents",
        {"title": "x", "message": "y", "components": {"999": "major_outage"}},
        format="json",
    )
    assert response.status_code == 400
    assert "components" in response.json()["errors"]


def test_it_posts_an_update_and_resolves(operator_client, world):
    url = f"/api/status/admin/incidents/{world['incident'].pk}"
    response = operator_client.put(url, {"status": "resolved", "message": "Fixed"}, format="json")
    assert response.status_code == 200
    assert response.json()["incident"]["status"] == "resolved"
    assert Component.objects.get(pk=world["api"].pk).status == "operational"


def test_it_answers_409_for_an_illegal_transition(operator_client, world):
    url = f"/api/status/admin/incidents/{world['incident'].pk}"
    operator_client.put(url, {"status": "resolved", "message": "Fixed"}, format="json")
    response = operator_client.put(url, {"status": "investigating", "message": "Again"}, format="json")
    assert response.status_code == 409
    assert "resolved" in response.json()["detail"]


def test_it_publishes_a_postmortem_over_the_api(operator_client, world):
    url = f"/api/status/admin/incidents/{world['incident'].pk}"
    operator_client.put(url, {"status": "resolved", "message": "Fixed"}, format="json")
    response = operator_client.put(url, {"status": "postmortem", "message": "What happened"}, format="json")
    assert response.json()["incident"]["postmortem_body"] == "What happened"


def test_it_answers_404_for_an_update_to_an_unknown_incident(operator_client):
    response = operator_client.put("/api/status/admin/incidents/999", {"status": "resolved", "message": "x"})
    assert response.status_code == 404


def test_it_schedules_starts_and_completes_maintenance(operator_client, world):
    start = timezone.now() + timedelta(hours=2)
    response = operator_client.post(
        "/api/status/admin/maintenance",
        {
            "title": "DB upgrade",
            "components": [world["api"].pk],
            "scheduled_for": start.isoformat(),
            "scheduled_until": (start + timedelta(hours=1)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201
    pk = response.json()["scheduled_maintenance"]["id"]
    started = operator_client.post(f"/api/status/admin/maintenance/{pk}/start")
    assert started.json()["scheduled_maintenance"]["status"] == "in_progress"
    assert operator_client.post(f"/api/status/admin/maintenance/{pk}/start").status_code == 409
    done = operator_client.post(f"/api/status/admin/maintenance/{pk}/complete", {"message": "All done"})
    assert done.json()["scheduled_maintenance"]["status"] == "completed"
    assert Maintenance.objects.get(pk=pk).updates.count() == 3


def test_it_names_the_end_of_a_backwards_maintenance_window(operator_client):
    start = timezone.now()
    response = operator_client.post(
        "/api/status/admin/maintenance",
        {"title": "x", "scheduled_for": start.isoformat(), "scheduled_until": start.isoformat()},
        format="json",
    )
    assert response.status_code == 400
    assert "scheduled_until" in response.json()["errors"]


def test_it_answers_404_for_unknown_maintenance(operator_client):
    assert operator_client.post("/api/status/admin/maintenance/999/complete").status_code == 404


def test_it_records_the_api_caller_as_the_actor(operator_client, operator, world):
    operator_client.put(
        f"/api/status/admin/incidents/{world['incident'].pk}", {"status": "identified", "message": "x"}
    )
    assert Incident.objects.get().updates.first().author == operator
