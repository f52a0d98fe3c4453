"""Incidents name their components either as Statuspage does ({"<id>": "<status>"}) or as the
specification's examples do (a list of ids, each at the status the incident's impact implies)."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from statuspage import services
from statuspage.models import Component, Incident
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db
URL = "/api/status/admin/incidents"


@pytest.fixture
def components():
    return ComponentFactory(name="API"), ComponentFactory(name="Web")


def _open(api, **body):
    return api.post(URL, {"title": "Outage", "message": "Looking", **body}, format="json")


def _statuses(incident_id: int) -> dict[str, str]:
    return {row.component.name: row.status for row in Incident.objects.get(pk=incident_id).affected.all()}


@pytest.mark.parametrize(
    ("impact", "status"),
    [("minor", "degraded_performance"), ("major", "partial_outage"), ("critical", "major_outage")],
)
def test_it_gives_a_list_of_components_the_status_of_the_impact(api, components, impact, status):
    response = _open(api, components=[c.pk for c in components], impact_override=impact)
    assert response.status_code == 201, response.json()
    assert _statuses(int(response.json()["incident"]["id"])) == {"API": status, "Web": status}
    assert Component.objects.get(name="API").status == status


def test_it_takes_a_list_without_an_impact_as_degraded(api, components):
    response = _open(api, components=[components[0].pk])
    assert response.status_code == 201
    body = response.json()["incident"]
    assert (_statuses(int(body["id"])), body["impact"]) == ({"API": "degraded_performance"}, "minor")


def test_it_still_takes_statuses_by_component(api, components):
    response = _open(api, components={str(components[0].pk): "major_outage"})
    assert response.status_code == 201
    assert _statuses(int(response.json()["incident"]["id"])) == {"API": "major_outage"}


def test_it_gives_a_listed_component_of_an_update_the_status_of_the_incidents_impact(api, components):
    api_component, web = components
    incident = services.incident_create(title="x", message="y", components={api_component: "major_outage"})
    response = api.put(
        f"{URL}/{incident.pk}",
        {"status": "identified", "message": "Web too", "components": [web.pk]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert _statuses(incident.pk) == {"API": "major_outage", "Web": "major_outage"}


@pytest.mark.parametrize(
    ("components", "message"),
    [
        (["API"], "'API' is not a component id."),
        ([True], "True is not a component id."),
        ([999999], "Unknown component ids: 999999."),
        ("1,2", 'Expected {"<component id>": "<status>"} or a list of component ids, not str.'),
    ],
)
def test_it_refuses_a_bad_component_list_with_a_field_error(api, components, message):
    response = _open(api, components=components)
    assert response.status_code == 400
    assert response.json()["errors"] == {"components": [message]}


def test_it_documents_both_shapes_in_the_schema():
    schema = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    for request in ("IncidentCreateInputRequest", "IncidentUpdateInputRequest"):
        shapes = schema[request]["properties"]["components"]["oneOf"]
        assert [shape["type"] for shape in shapes] == ["object", "array"]
