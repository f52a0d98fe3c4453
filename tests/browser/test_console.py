"""The issue's "done when": an operator logs in and, from the dashboard alone, sees what is
wrong, acknowledges an alert, posts an incident update and starts a maintenance."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from alerts.models import Alert
from statuspage.models import IncidentStatus, MaintenanceStatus
from tests.config.factories import ops_world

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def operator(django_user_model):
    user = django_user_model.objects.create_user("olive", "olive@example.com", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Operators"))
    return user


def test_it_runs_an_incident_from_the_dashboard_alone(page, operator):
    world = ops_world()
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("olive")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page.locator("#vigil-overall")).to_contain_text("Outage")
    expect(page.locator("#vigil-alerts")).to_contain_text("CPU high")
    expect(page.locator("#vigil-charts svg.vigil-chart")).to_have_count(4)

    page.locator("#vigil-alerts").get_by_role("button", name="Acknowledge").click()
    expect(page.locator(".messagelist")).to_contain_text("acknowledged")
    assert Alert.objects.get(pk=world["alert"].pk).status == Alert.Status.ACKNOWLEDGED

    incidents = page.locator("#vigil-incidents")
    incidents.locator("summary").click()
    incidents.locator("select[name=status]").select_option("identified")
    incidents.locator("textarea[name=message]").fill("A bad deploy; rolling back.")
    incidents.get_by_role("button", name="Post update").click()
    expect(page.locator(".messagelist")).to_contain_text("Update posted")
    world["incident"].refresh_from_db()
    assert world["incident"].status == IncidentStatus.IDENTIFIED

    page.locator("#vigil-maintenance").get_by_role("button", name="Start now").click()
    expect(page.locator(".messagelist")).to_contain_text("started")
    world["maintenance"].refresh_from_db()
    assert world["maintenance"].status == MaintenanceStatus.IN_PROGRESS
