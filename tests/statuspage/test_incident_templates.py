"""Incident templates: edited in the admin and the API, opened as an incident in two clicks."""

import pytest

from notifications.models import Message
from statuspage import services
from statuspage.models import Incident, IncidentTemplate
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db

TEMPLATES = "/api/status/admin/incident-templates"
INCIDENTS = "/api/status/admin/incidents"


@pytest.fixture
def component():
    return ComponentFactory(name="API")


@pytest.fixture
def template(component):
    return services.incident_template_create(
        name="API outage",
        title="The API is down",
        message="We are **looking** into it.",
        status="identified",
        impact_override="major",
        components={component: "major_outage"},
    )


def test_it_creates_a_template_through_the_api(api, component):
    answer = api.post(
        TEMPLATES,
        {
            "name": "Slow",
            "title": "Slow API",
            "message": "Slow.",
            "components": {str(component.pk): "degraded_performance"},
        },
        format="json",
    )
    assert answer.status_code == 201 and answer.json()["components"] == {
        str(component.pk): "degraded_performance"
    }


def test_it_lists_templates(api, template):
    assert [row["name"] for row in api.get(TEMPLATES).json()["results"]] == ["API outage"]


def test_it_edits_a_template_through_the_api(api, template):
    answer = api.patch(
        f"{TEMPLATES}/{template.pk}", {"title": "API unreachable", "components": {}}, format="json"
    )
    assert answer.json()["title"] == "API unreachable" and answer.json()["components"] == {}


def test_it_deletes_a_template_through_the_api(api, template):
    assert api.delete(f"{TEMPLATES}/{template.pk}").status_code == 204
    assert not IncidentTemplate.objects.exists()


def test_it_refuses_a_second_template_of_the_same_name(api, template):
    answer = api.post(TEMPLATES, {"name": "API outage", "title": "x", "message": "y"}, format="json")
    assert answer.status_code == 400 and "name" in answer.json()["errors"]


def test_it_refuses_an_unknown_component(api):
    answer = api.post(
        TEMPLATES,
        {"name": "n", "title": "t", "message": "m", "components": {"999": "major_outage"}},
        format="json",
    )
    assert answer.status_code == 400 and "components" in answer.json()["errors"]


def test_it_refuses_a_resolved_status_for_a_template(api):
    answer = api.post(
        TEMPLATES, {"name": "n", "title": "t", "message": "m", "status": "resolved"}, format="json"
    )
    assert answer.status_code == 400


def test_it_opens_an_incident_from_a_template_alone(api, template):
    answer = api.post(INCIDENTS, {"template": template.pk}, format="json")
    incident = answer.json()["incident"]
    assert (incident["name"], incident["status"], incident["impact"]) == (
        "The API is down",
        "identified",
        "major",
    )


def test_it_gives_the_template_components_their_statuses(api, template, component):
    api.post(INCIDENTS, {"template": template.pk}, format="json")
    component.refresh_from_db()
    assert component.status == "major_outage"


def test_it_lets_the_request_override_the_template(api, template):
    incident = api.post(INCIDENTS, {"template": template.pk, "title": "API down in EU"}, format="json").json()
    assert incident["incident"]["name"] == "API down in EU"
    assert incident["incident"]["incident_updates"][0]["body"] == "We are **looking** into it."


def test_it_uses_the_template_impact_for_a_plain_list_of_components(api, template):
    other = ComponentFactory(name="Web")
    api.post(INCIDENTS, {"template": template.pk, "components": [other.pk]}, format="json")
    other.refresh_from_db()
    assert other.status == "partial_outage"


def test_it_tells_nobody_when_the_template_says_so(api, template):
    services.incident_template_update(template=template, notify=False)
    api.post(INCIDENTS, {"template": template.pk}, format="json")
    assert not Message.objects.exists()


def test_it_still_needs_a_title_and_message_without_a_template(api):
    answer = api.post(INCIDENTS, {"status": "investigating"}, format="json")
    assert answer.status_code == 400 and set(answer.json()["errors"]) == {"title", "message"}


def test_it_refuses_an_unknown_template(api):
    answer = api.post(INCIDENTS, {"template": 999}, format="json")
    assert answer.status_code == 400 and "template" in answer.json()["errors"]


def test_it_documents_the_template_endpoints_and_field():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert {"get", "post"} <= set(schema["paths"][TEMPLATES])
    assert "template" in schema["components"]["schemas"]["IncidentCreateInputRequest"]["properties"]


# --- admin --------------------------------------------------------------------------------


def test_it_creates_a_template_with_components_in_the_admin(admin_client_, component):
    admin_client_.post(
        "/admin/statuspage/incidenttemplate/add/",
        {
            "name": "DB",
            "title": "Database slow",
            "status": "investigating",
            "message": "Slow.",
            "impact_override": "",
            "notify": "on",
            "affected-TOTAL_FORMS": "1",
            "affected-INITIAL_FORMS": "0",
            "affected-0-component": component.pk,
            "affected-0-status": "partial_outage",
        },
    )
    assert IncidentTemplate.objects.get(name="DB").incident_values()["components"] == {
        component: "partial_outage"
    }


def test_it_opens_an_incident_from_the_template_page(admin_client_, template):
    answer = admin_client_.post(f"/admin/statuspage/incidenttemplate/{template.pk}/open-incident/")
    incident = Incident.objects.get()
    assert (
        answer.url == f"/admin/statuspage/incident/{incident.pk}/change/"
        and incident.title == "The API is down"
    )


def test_it_shows_what_the_incident_will_say_before_opening_it(admin_client_, template):
    page = admin_client_.get(
        f"/admin/statuspage/incidenttemplate/{template.pk}/open-incident/"
    ).content.decode()
    assert "<strong>looking</strong>" in page and not Incident.objects.exists()


def test_it_opens_an_incident_with_the_changelist_action(admin_client_, template):
    admin_client_.post(
        "/admin/statuspage/incidenttemplate/", {"action": "open_incident", "_selected_action": [template.pk]}
    )
    assert Incident.objects.get().title == "The API is down"


def test_it_refuses_to_open_an_incident_for_a_viewer(client, django_user_model, template):
    from django.contrib.auth.models import Group

    viewer = django_user_model.objects.create_user("v", "v@example.com", "pw-v-123456", is_staff=True)
    viewer.groups.add(Group.objects.get(name="Viewers"))
    client.force_login(viewer)
    assert client.post(f"/admin/statuspage/incidenttemplate/{template.pk}/open-incident/").status_code == 403
