"""The maintenance schedules in the staff API and the admin: the same services, bad rules refused
with a clear 400 or form error, a preview of the next occurrences."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from statuspage.models import Maintenance, MaintenanceSchedule, MaintenanceStatus

pytestmark = pytest.mark.django_db
URL = "/api/status/admin/maintenance-schedules"
BODY = {
    "title": "Monthly patching",
    "rrule": "FREQ=MONTHLY;BYDAY=1SU",
    "starts_on": "2030-12-01",
    "start_time": "02:00",
    "duration": "02:00:00",
    "time_zone": "Europe/Berlin",
    "notify": False,
}


@pytest.fixture(autouse=True)
def december(settings):
    settings.MAINTENANCE_SCHEDULE_HORIZON_DAYS = 40
    with time_machine.travel(datetime(2030, 12, 2, 12, 0, tzinfo=UTC), tick=False):
        yield


def test_it_creates_a_schedule_and_its_first_occurrence(operator_client):
    response = operator_client.post(URL, BODY, format="json")
    assert response.status_code == 201, response.content
    assert Maintenance.objects.get().scheduled_for == datetime(2031, 1, 5, 1, 0, tzinfo=UTC)


def test_it_answers_the_next_occurrences(operator_client):
    created = operator_client.post(URL, BODY, format="json").json()
    assert created["next_occurrences"][:2] == ["2031-01-05T01:00:00Z", "2031-02-02T01:00:00Z"]


@pytest.mark.parametrize("rule", ["FREQ=SOMETIMES", "FREQ=MINUTELY", "DTSTART:20300101T000000"])
def test_it_refuses_a_bad_rule_with_a_400_naming_it(operator_client, rule):
    response = operator_client.post(URL, {**BODY, "rrule": rule}, format="json")
    assert response.status_code == 400
    assert "rrule" in response.json()["errors"]


def test_it_refuses_an_unknown_time_zone(operator_client):
    response = operator_client.post(URL, {**BODY, "time_zone": "Mars/Olympus"}, format="json")
    assert "time_zone" in response.json()["errors"]


def test_it_refuses_a_duration_of_nothing(operator_client):
    response = operator_client.post(URL, {**BODY, "duration": "00:00:00"}, format="json")
    assert "duration" in response.json()["errors"]


def test_an_update_reaches_the_coming_occurrence(operator_client):
    pk = operator_client.post(URL, BODY, format="json").json()["id"]
    response = operator_client.patch(f"{URL}/{pk}", {"title": "Patching"}, format="json")
    assert response.status_code == 200, response.content
    assert Maintenance.objects.get().title == "Patching"


def test_a_delete_cancels_the_coming_occurrence(operator_client):
    pk = operator_client.post(URL, BODY, format="json").json()["id"]
    assert operator_client.delete(f"{URL}/{pk}").status_code == 204
    assert Maintenance.objects.get().status == MaintenanceStatus.CANCELLED


def test_it_lists_the_schedules(operator_client):
    operator_client.post(URL, BODY, format="json")
    response = operator_client.get(URL)
    assert [s["title"] for s in response.json()["results"]] == ["Monthly patching"]


def test_the_schema_documents_the_schedule_endpoints():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    assert {"get", "post"} <= set(paths[URL])
    assert {"get", "put", "patch", "delete"} <= set(paths[URL + "/{id}"])


# --- admin ---------------------------------------------------------------------------------------

FORM = {
    "title": "Monthly patching",
    "rrule": "FREQ=MONTHLY;BYDAY=1SU",
    "starts_on": "2030-12-01",
    "start_time": "02:00",
    "duration": "02:00:00",
    "time_zone": "Europe/Berlin",
    "active": "on",
}


def test_the_admin_adds_a_schedule_through_the_service(admin_client_):
    response = admin_client_.post(reverse("admin:statuspage_maintenanceschedule_add"), FORM)
    assert response.status_code == 302
    assert MaintenanceSchedule.objects.get().occurrences.count() == 1


def test_the_admin_form_names_a_bad_rule(admin_client_):
    response = admin_client_.post(
        reverse("admin:statuspage_maintenanceschedule_add"), {**FORM, "rrule": "FREQ=SOMETIMES"}
    )
    assert "rrule" in response.context["adminform"].form.errors


def test_the_change_page_previews_the_next_occurrences_in_local_time(admin_client_):
    admin_client_.post(reverse("admin:statuspage_maintenanceschedule_add"), FORM)
    schedule = MaintenanceSchedule.objects.get()
    page = admin_client_.get(reverse("admin:statuspage_maintenanceschedule_change", args=[schedule.pk]))
    assert "Sun 2031-01-05 02:00 CET – 04:00 CET (2031-01-05 01:00 UTC)" in page.content.decode()


def test_the_admin_lists_schedules_with_search(admin_client_):
    url = reverse("admin:statuspage_maintenanceschedule_changelist")
    admin_client_.post(reverse("admin:statuspage_maintenanceschedule_add"), FORM)
    assert admin_client_.get(url, {"q": "patch"}).status_code == 200


def test_deleting_in_the_admin_cancels_the_coming_occurrence(admin_client_):
    admin_client_.post(reverse("admin:statuspage_maintenanceschedule_add"), FORM)
    schedule = MaintenanceSchedule.objects.get()
    admin_client_.post(
        reverse("admin:statuspage_maintenanceschedule_delete", args=[schedule.pk]), {"post": "yes"}
    )
    assert Maintenance.objects.get().status == MaintenanceStatus.CANCELLED


def test_the_switch_off_action_cancels_the_coming_occurrence(admin_client_):
    admin_client_.post(reverse("admin:statuspage_maintenanceschedule_add"), FORM)
    schedule = MaintenanceSchedule.objects.get()
    admin_client_.post(
        reverse("admin:statuspage_maintenanceschedule_changelist"),
        {"action": "deactivate", "_selected_action": [schedule.pk]},
    )
    assert Maintenance.objects.get().status == MaintenanceStatus.CANCELLED
