import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from config.models import AuditEntry
from statuspage.models import Component
from tests.config.factories import ops_world, role_user
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db


def _component_form(component, **changes) -> dict:
    return {
        "name": component.name,
        "description": "",
        "type": component.type,
        "position": component.position,
        "health_check_url": "",
        "show_uptime": "on",
        **changes,
    }


def test_it_records_an_admin_change_with_before_and_after(client):
    component = ComponentFactory(name="API")
    user = role_user("operator")
    client.force_login(user)
    response = client.post(
        reverse("admin:statuspage_component_change", args=[component.pk]),
        _component_form(component, name="Public API"),
    )
    assert response.status_code in (200, 302)
    entry = AuditEntry.objects.get(object_id=str(component.pk), action="update")
    assert (entry.actor, entry.actor_name, entry.via) == (user, "operator", "admin")
    assert entry.changes["name"] == ["API", "Public API"]
    assert entry.before["name"] == "API" and entry.after["name"] == "Public API"


def test_it_records_an_api_change_made_with_a_token():
    from rest_framework.authtoken.models import Token

    user = role_user("administrator")
    client = APIClient(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    response = client.put("/api/operations/config", {"cpu_usage_threshold_percent": 70}, format="json")
    assert response.status_code == 200, response.json()
    entry = AuditEntry.objects.get(content_type__model="operationsconfig", action="update")
    assert (entry.actor, entry.via, entry.method) == (user, "api", "PUT")
    assert entry.changes["cpu_usage_threshold_percent"][1] == 70


def test_it_records_alert_acknowledgement_through_the_api():
    world = ops_world()
    client = APIClient()
    client.force_authenticate(role_user("operator"))
    client.post(f"/api/operations/alerts/{world['alert'].pk}/acknowledge", {"note": "on it"}, format="json")
    entry = AuditEntry.objects.get(content_type__model="alert", object_id=str(world["alert"].pk))
    assert entry.changes["status"] == ["firing", "acknowledged"]


def test_it_records_creation_and_deletion():
    client = APIClient()
    client.force_authenticate(role_user("administrator"))
    world = ops_world()
    client.delete(f"/api/operations/alert-rules/{world['rule'].pk}")
    deleted = AuditEntry.objects.get(content_type__model="alertrule", action="delete")
    assert deleted.before["name"] == world["rule"].name and deleted.after is None


def test_it_records_nothing_for_changes_outside_a_staff_request():
    ComponentFactory()
    Component.objects.update(name="renamed")
    for component in Component.objects.all():
        component.name = "again"
        component.save()
    assert not AuditEntry.objects.exists()


def test_it_keeps_secrets_out_of_the_log(client):
    admin_user = role_user("superuser")
    client.force_login(admin_user)
    user = role_user("viewer")
    client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": "a-new-Secret-123", "password2": "a-new-Secret-123", "usable_password": "true"},
    )
    entry = AuditEntry.objects.filter(content_type__model="user", object_id=str(user.pk)).latest("at")
    before, after = entry.changes["password"]
    assert before.startswith("(redacted)") and after.startswith("(redacted)") and before != after
    assert "a-new-Secret" not in str(entry.before) + str(entry.after)


def test_it_shows_the_log_in_the_admin_read_only(client):
    component = ComponentFactory()
    client.force_login(role_user("superuser"))
    client.post(
        reverse("admin:statuspage_component_change", args=[component.pk]),
        _component_form(component, name="Renamed"),
    )
    entry = AuditEntry.objects.get()
    assert client.get(reverse("admin:config_auditentry_changelist")).status_code == 200
    page = client.get(reverse("admin:config_auditentry_change", args=[entry.pk]))
    assert page.status_code == 200 and b"Renamed" in page.content and b'name="_save"' not in page.content
    assert client.get(reverse("admin:config_auditentry_add")).status_code == 403
    assert client.post(reverse("admin:config_auditentry_delete", args=[entry.pk])).status_code == 403


def test_it_does_not_log_a_login(client):
    user = role_user("operator")
    client.post(reverse("admin:login"), {"username": "operator", "password": "pw-operator-12345"})
    user.refresh_from_db()
    assert user.last_login is not None
    assert not AuditEntry.objects.exists()


def test_it_records_many_to_many_changes(client):
    from statuspage.models import Maintenance

    world = ops_world()
    client = APIClient()
    client.force_authenticate(role_user("operator"))
    response = client.post(
        "/api/status/admin/maintenance",
        {
            "title": "Failover drill",
            "scheduled_for": "2030-01-01T00:00:00Z",
            "scheduled_until": "2030-01-01T01:00:00Z",
            "components": [world["component"].pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    maintenance = Maintenance.objects.get(title="Failover drill")
    entry = AuditEntry.objects.get(
        content_type__model="maintenance", object_id=str(maintenance.pk), after__has_key="components"
    )
    assert entry.before == {"components": []} and entry.after == {"components": [world["component"].pk]}
