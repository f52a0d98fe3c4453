"""The console's count of visitors' trouble reports over the last hour, per component."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from config.dashboard import dashboard_data
from monitoring.models import Metric
from statuspage.visitor_reports import METRIC_NAME, OTHER
from tests.config.factories import role_user
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db


def reports(label: str, count: int, *, minutes_ago: float = 1) -> None:
    Metric.objects.create(
        name=METRIC_NAME,
        metric_type="application",
        category="visitor_reports",
        value=count,
        tags={"component": label, "problem": "slow"},
        timestamp=timezone.now() - timedelta(minutes=minutes_ago),
    )


def test_it_counts_the_last_hour_per_component_most_first():
    api, web = ComponentFactory(name="API"), ComponentFactory(name="Web")
    reports(str(api.pk), 2)
    reports(str(web.pk), 3)
    reports(str(web.pk), 4, minutes_ago=30)
    panel = dashboard_data()["visitor_reports"]
    assert [(i["name"], i["reports"]) for i in panel["items"]] == [("Web", 7), ("API", 2)]


def test_it_leaves_out_reports_older_than_an_hour():
    component = ComponentFactory()
    reports(str(component.pk), 9, minutes_ago=61)
    assert dashboard_data()["visitor_reports"]["items"] == []


def test_it_counts_something_else_on_its_own_line():
    reports(OTHER, 2)
    item = dashboard_data()["visitor_reports"]["items"][0]
    assert (item["name"], item["component_id"], item["reports"]) == ("Something else", None, 2)


def test_it_answers_the_count_in_the_api():
    component = ComponentFactory(name="Checkout")
    reports(str(component.pk), 5)
    client = APIClient()
    client.force_authenticate(role_user("viewer"))
    panel = client.get("/api/operations/dashboard").json()["visitor_reports"]
    assert (panel["window_minutes"], panel["total"], panel["items"][0]["component_id"]) == (
        60,
        5,
        component.pk,
    )


def test_it_shows_the_count_on_the_dashboard_page(client):
    component = ComponentFactory(name="Checkout")
    reports(str(component.pk), 5)
    client.force_login(role_user("viewer"))
    page = client.get(reverse("admin:index")).content.decode()
    section = page.split('id="vigil-visitor-reports"')[1].split('<div class="module"')[0]
    assert "Checkout" in section and "5 reports" in section
