"""The named response schemas are true: real answers of a page with groups, incidents (open,
resolved, with updates) and maintenance (upcoming, active) validate against them."""

from datetime import timedelta

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from openapi_schema_validator import OAS30Validator

from statuspage import services
from tests.statuspage.factories import ComponentFactory, ComponentGroupFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    group = ComponentGroupFactory(name="Web")
    api = ComponentFactory(name="API", group=group, description="The API")
    ComponentFactory(name="SSO")
    open_incident = services.incident_create(
        title="API down", message="Looking", components={api: "major_outage"}
    )
    services.incident_update_create(incident=open_incident, status="identified", message="Found it")
    resolved = services.incident_create(title="Old", message="x", components={api: "partial_outage"})
    services.incident_update_create(incident=resolved, status="resolved", message="Fixed")
    now = timezone.now()
    services.maintenance_schedule(
        title="Upgrade",
        scheduled_for=now + timedelta(days=1),
        scheduled_until=now + timedelta(days=2),
        components=[api],
    )
    active = services.maintenance_schedule(
        title="Now",
        scheduled_for=now - timedelta(minutes=1),
        scheduled_until=now + timedelta(hours=1),
        components=[api],
    )
    services.maintenance_start(maintenance=active, message="Started")
    return {"component": api, "incident": open_incident}


def _answer_schema(openapi: dict, path: str, method: str, code: int) -> OAS30Validator:
    schema = openapi["paths"][path][method]["responses"][str(code)]["content"]["application/json"]["schema"]
    # Local references resolve against the document's root: carry the components along.
    return OAS30Validator(
        {**schema, "components": openapi["components"]}, format_checker=OAS30Validator.FORMAT_CHECKER
    )


@pytest.fixture
def openapi():
    return SchemaGenerator().get_schema(request=None, public=True)


PUBLIC = [
    "/api/status",
    "/api/status/incidents",
    "/api/status/incidents/{id}",
    "/api/status/components/{id}/uptime",
    "/api/v2/summary.json",
    "/api/v2/status.json",
    "/api/v2/components.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
    "/api/v2/scheduled-maintenances.json",
    "/api/v2/scheduled-maintenances/upcoming.json",
    "/api/v2/scheduled-maintenances/active.json",
    "/health/live",
]


@pytest.mark.parametrize("path", PUBLIC)
def test_it_answers_the_public_paths_as_their_schema_says(client, world, openapi, path):
    ids = {
        "/api/status/incidents/{id}": world["incident"].pk,
        "/api/status/components/{id}/uptime": world["component"].pk,
    }
    response = client.get(path.replace("{id}", str(ids.get(path, ""))))
    assert response.status_code == 200
    _answer_schema(openapi, path, "get", 200).validate(response.json())


def test_it_answers_the_incident_writes_as_their_schema_says(api, world, openapi):
    component = world["component"]
    created = api.post(
        "/api/status/admin/incidents",
        {"title": "New", "message": "x", "components": {str(component.pk): "degraded_performance"}},
        format="json",
    )
    _answer_schema(openapi, "/api/status/admin/incidents", "post", 201).validate(created.json())
    updated = api.put(
        f"/api/status/admin/incidents/{created.json()['incident']['id']}",
        {"status": "monitoring", "message": "y"},
        format="json",
    )
    _answer_schema(openapi, "/api/status/admin/incidents/{id}", "put", 200).validate(updated.json())
