"""Declaring a public incident from an open alert: linked, pre-filled, never twice."""

import pytest

from alerts.models import Alert, AlertEvent
from alerts.services import AlertTransitionError, alert_declare_incident, alert_resolve
from statuspage import services as statuspage_services
from statuspage.models import Incident
from tests.alerts.factories import AlertFactory, AlertRuleFactory
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db


def url(alert) -> str:
    return f"/api/operations/alerts/{alert.pk}/declare-incident"


@pytest.fixture
def alert():
    return AlertFactory(
        rule=AlertRuleFactory(name="API error rate"),
        message="5xx above 5 % for 5 min",
        component=ComponentFactory(name="API"),
        severity="critical",
    )


def test_it_opens_an_incident_titled_after_the_rule(alert):
    declared = alert_declare_incident(alert=alert)
    assert declared.created and declared.incident.title == "API error rate"


def test_it_posts_the_alert_summary_as_the_first_update(alert):
    incident = alert_declare_incident(alert=alert).incident
    assert incident.updates.get().body == "5xx above 5 % for 5 min"


def test_it_puts_the_alert_component_at_the_status_of_its_severity(alert):
    alert_declare_incident(alert=alert)
    alert.component.refresh_from_db()
    assert alert.component.status == "major_outage"


def test_it_links_the_incident_to_the_alert(alert):
    incident = alert_declare_incident(alert=alert).incident
    alert.refresh_from_db()
    assert alert.incident == incident


def test_it_records_the_declaration_in_the_alert_timeline(alert):
    alert_declare_incident(alert=alert)
    assert alert.events.filter(kind=AlertEvent.Kind.INCIDENT).count() == 1


def test_it_returns_the_open_incident_when_declared_twice(alert):
    first = alert_declare_incident(alert=alert).incident
    again = alert_declare_incident(alert=alert)
    assert (again.created, again.incident, Incident.objects.count()) == (False, first, 1)


def test_it_opens_a_new_incident_once_the_linked_one_is_resolved(alert):
    first = alert_declare_incident(alert=alert).incident
    statuspage_services.incident_update_create(incident=first, status="resolved", message="Fixed")
    assert alert_declare_incident(alert=alert).incident != first


def test_it_refuses_a_resolved_alert(alert):
    alert_resolve(alert=alert)
    with pytest.raises(AlertTransitionError):
        alert_declare_incident(alert=alert)


def test_it_takes_the_template_values_over_the_alert(alert):
    template = statuspage_services.incident_template_create(name="API", title="API trouble", message="On it.")
    incident = alert_declare_incident(alert=alert, template=template).incident
    assert (incident.title, incident.updates.get().body) == ("API trouble", "On it.")


def test_it_keeps_the_alert_component_when_the_template_names_none(alert):
    template = statuspage_services.incident_template_create(name="API", title="API trouble", message="On it.")
    incident = alert_declare_incident(alert=alert, template=template).incident
    assert list(incident.components.all()) == [alert.component]


# --- API ----------------------------------------------------------------------------------


def test_it_declares_through_the_api(api, alert):
    answer = api.post(url(alert), {}, format="json")
    assert answer.status_code == 201 and answer.json()["incident"]["name"] == "API error rate"


def test_it_answers_200_with_the_same_incident_the_second_time(api, alert):
    first = api.post(url(alert), {}, format="json").json()["incident"]["id"]
    again = api.post(url(alert), {}, format="json")
    assert (again.status_code, again.json()["incident"]["id"], again.json()["created"]) == (200, first, False)


def test_it_shows_the_incident_on_the_alert(api, alert):
    incident = api.post(url(alert), {}, format="json").json()["incident"]["id"]
    assert api.get(f"/api/operations/alerts/{alert.pk}").json()["incident"] == int(incident)


def test_it_takes_a_template_and_components_in_the_api(api, alert):
    other = ComponentFactory(name="Web")
    template = statuspage_services.incident_template_create(
        name="Web", title="Web slow", message="Slow.", impact_override="major"
    )
    api.post(url(alert), {"template": template.pk, "components": [other.pk]}, format="json")
    other.refresh_from_db()
    assert (Incident.objects.get().title, other.status) == ("Web slow", "partial_outage")


def test_it_answers_409_for_a_resolved_alert(api, alert):
    alert_resolve(alert=alert)
    assert api.post(url(alert), {}, format="json").status_code == 409


def test_it_answers_400_for_an_unknown_template(api, alert):
    answer = api.post(url(alert), {"template": 999}, format="json")
    assert answer.status_code == 400 and "template" in answer.json()["errors"]


def test_it_needs_the_permission_to_add_incidents(client, django_user_model, alert):
    from django.contrib.auth.models import Permission
    from rest_framework.test import APIClient

    user = django_user_model.objects.create_user("a", "a@example.com", "pw-a-123456", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="alerts"))
    client = APIClient()
    client.force_authenticate(user)
    assert client.post(url(alert), {}, format="json").status_code == 403


def test_it_documents_the_endpoint():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/operations/alerts/{id}/declare-incident"]["post"]
    assert {"200", "201", "409"} <= set(operation["responses"])


# --- admin --------------------------------------------------------------------------------


def test_it_declares_with_the_admin_action(admin_client_, alert):
    admin_client_.post("/admin/alerts/alert/", {"action": "declare_incident", "_selected_action": [alert.pk]})
    assert Alert.objects.get(pk=alert.pk).incident.title == "API error rate"


def test_it_links_the_incident_on_the_alert_page(admin_client_, alert):
    incident = alert_declare_incident(alert=alert).incident
    page = admin_client_.get(f"/admin/alerts/alert/{alert.pk}/change/").content.decode()
    assert f"/admin/statuspage/incident/{incident.pk}/change/" in page
