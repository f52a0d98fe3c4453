"""Setting up objectives, calendars, response targets and scheduled reports through the API:
the model's checks as 400s naming the field, reads for every role, writes for Administrators."""

import pytest
from rest_framework.test import APIClient

from notifications.models import Message
from reports.models import Report, ResponseTarget, ServiceLevelObjective
from tests.config.factories import role_user
from tests.reports.factories import BusinessCalendarFactory, ReportFactory
from tests.statuspage.factories import ComponentFactory, ComponentGroupFactory

pytestmark = pytest.mark.django_db


def test_it_creates_an_objective_and_answers_with_its_status(api):
    component = ComponentFactory()
    response = api.post(
        "/api/operations/slos",
        {"name": "API availability", "component": component.pk, "target_percent": "99.9", "window_days": 30},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["target_percentage"] == 99.9 and "error_budget_seconds" in body
    assert ServiceLevelObjective.objects.get().component == component


def test_an_objective_needs_a_component_or_a_group_not_both(api):
    response = api.post(
        "/api/operations/slos",
        {
            "name": "Both",
            "component": ComponentFactory().pk,
            "group": ComponentGroupFactory().pk,
            "target_percent": "99.9",
        },
        format="json",
    )
    assert response.status_code == 400
    assert not ServiceLevelObjective.objects.exists()


def test_an_objective_target_out_of_range_is_a_400_naming_it(api):
    response = api.post(
        "/api/operations/slos",
        {"name": "Silly", "component": ComponentFactory().pk, "target_percent": "100.5"},
        format="json",
    )
    assert response.status_code == 400 and "target_percent" in response.json()["errors"]


def test_it_sets_a_response_target_in_business_hours(api):
    calendar = BusinessCalendarFactory()
    response = api.post(
        "/api/operations/response-targets",
        {"severity": "high", "acknowledge_minutes": 15, "calendar": calendar.pk},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert ResponseTarget.objects.get().calendar == calendar


def test_a_calendar_with_a_bad_time_zone_is_a_400_naming_it(api):
    response = api.post(
        "/api/operations/business-calendars", {"name": "Office", "time_zone": "Mars/Olympus"}, format="json"
    )
    assert response.status_code == 400 and "time_zone" in response.json()["errors"]


def test_it_schedules_a_report_and_refuses_a_bad_address(api):
    component = ComponentFactory()
    good = api.post(
        "/api/operations/report-schedules",
        {
            "name": "Monthly",
            "frequency": "monthly",
            "recipients": "ops@example.com",
            "components": [component.pk],
        },
        format="json",
    )
    assert good.status_code == 201, good.json()
    assert list(Report.objects.get().components.all()) == [component]
    bad = api.post(
        "/api/operations/report-schedules", {"name": "Bad", "recipients": "not an address"}, format="json"
    )
    assert bad.status_code == 400 and "recipients" in bad.json()["errors"]


def test_it_sends_the_last_period_once(api):
    report = ReportFactory()
    first = api.post(f"/api/operations/report-schedules/{report.pk}/send")
    again = api.post(f"/api/operations/report-schedules/{report.pk}/send")
    assert (first.status_code, first.json()["sent"]) == (202, True)
    assert again.json()["sent"] is False
    assert Message.objects.count() == 1


def test_a_viewer_reads_but_may_not_write():
    client = APIClient()
    client.force_authenticate(role_user("viewer"))
    assert client.get("/api/operations/report-schedules").status_code == 200
    response = client.post("/api/operations/business-calendars", {"name": "Office"}, format="json")
    assert response.status_code == 403
