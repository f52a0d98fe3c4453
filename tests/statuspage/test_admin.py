from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from statuspage import services
from statuspage.models import Component, ComponentStatusChange, Incident, Maintenance
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db

MODELS = [
    "componentgroup",
    "component",
    "componentstatuschange",
    "componentuptimeday",
    "incident",
    "maintenance",
    "maintenanceschedule",
]


@pytest.mark.parametrize("model", MODELS)
def test_it_opens_every_changelist_with_search(admin_client_, model):
    ComponentFactory()
    url = reverse(f"admin:statuspage_{model}_changelist")
    assert admin_client_.get(url).status_code == 200
    assert admin_client_.get(url, {"q": "x"}).status_code == 200


def test_it_sets_component_status_through_the_service_from_an_action(admin_client_):
    component = ComponentFactory()
    admin_client_.post(
        reverse("admin:statuspage_component_changelist"),
        {"action": "set_major_outage", "_selected_action": [component.pk]},
    )
    assert Component.objects.get().status == "major_outage"
    assert ComponentStatusChange.objects.get().source == "manual"


def test_it_opens_an_incident_and_posts_updates_from_the_admin(admin_client_):
    component = ComponentFactory()
    response = admin_client_.post(
        reverse("admin:statuspage_incident_add"),
        {
            "title": "Login broken",
            "impact_override": "",
            "postmortem_body": "",
            "update_status": "investigating",
            "update_message": "Looking into it",
            "affected": [component.pk],
            "component_status": "major_outage",
            "notify": "on",
            "updates-TOTAL_FORMS": "0",
            "updates-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    incident = Incident.objects.get()
    assert Component.objects.get().status == "major_outage"
    admin_client_.post(
        reverse("admin:statuspage_incident_changelist"),
        {"action": "resolve", "_selected_action": [incident.pk]},
    )
    assert Incident.objects.get().status == "resolved"
    assert Component.objects.get().status == "operational"


def test_it_starts_and_completes_maintenance_from_actions(admin_client_):
    start = timezone.now() + timedelta(hours=1)
    maintenance = services.maintenance_schedule(
        title="Patch",
        scheduled_for=start,
        scheduled_until=start + timedelta(hours=1),
        components=[ComponentFactory()],
    )
    url = reverse("admin:statuspage_maintenance_changelist")
    admin_client_.post(url, {"action": "start", "_selected_action": [maintenance.pk]})
    assert Component.objects.get().status == "under_maintenance"
    admin_client_.post(url, {"action": "complete", "_selected_action": [maintenance.pk]})
    assert Maintenance.objects.get().status == "completed"
    assert Component.objects.get().status == "operational"


def test_it_schedules_maintenance_through_the_service_from_the_add_form(admin_client_):
    component = ComponentFactory()
    start = timezone.now() + timedelta(days=1)
    response = admin_client_.post(
        reverse("admin:statuspage_maintenance_add"),
        {
            "title": "Disk swap",
            "description": "",
            "components": [component.pk],
            "scheduled_for_0": start.strftime("%Y-%m-%d"),
            "scheduled_for_1": "02:00:00",
            "scheduled_until_0": start.strftime("%Y-%m-%d"),
            "scheduled_until_1": "04:00:00",
            "auto_start": "on",
            "auto_complete": "on",
            "updates-TOTAL_FORMS": "0",
            "updates-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content[:3000]
    maintenance = Maintenance.objects.get()
    assert list(maintenance.components.all()) == [component]
    assert maintenance.updates.get().status == "scheduled"
