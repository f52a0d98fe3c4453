"""What the console writes for people: labels, numbers, dates and messages."""

import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from alerts.defaults import default_rules
from tests.config.factories import ops_world, role_user

pytestmark = pytest.mark.django_db

ONE_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")


def test_it_shows_display_labels_not_raw_values_on_the_dashboard(client):
    ops_world()
    client.force_login(role_user("operator"))
    page = client.get(reverse("admin:index")).content.decode()
    assert "Database upgrade</a> — In progress" in page
    assert "in_progress" not in page.replace('value="in_progress"', "")
    assert "— Investigating, impact" in page


def test_it_formats_the_last_value_in_the_rules_list(client):
    rule = ops_world()["rule"]
    rule.last_value = 34.79224999
    rule.save(update_fields=["last_value"])
    client.force_login(role_user("administrator"))
    page = client.get(reverse("admin:alerts_alertrule_changelist")).content.decode()
    assert "34.79224999" not in page
    assert ">34.79<" in page


@pytest.mark.parametrize(
    "changelist", ["admin:statuspage_incident_changelist", "admin:alerts_alert_changelist"]
)
def test_it_writes_every_admin_date_in_one_format(client, changelist):
    ops_world()
    client.force_login(role_user("administrator"))
    page = client.get(reverse(changelist)).content.decode()
    assert ONE_FORMAT.search(page)
    assert not re.search(r"\b(a\.m\.|p\.m\.|midnight|noon)", page)


def test_it_writes_the_dashboard_times_in_the_same_format(client):
    ops_world()
    client.force_login(role_user("operator"))
    page = client.get(reverse("admin:index")).content.decode()
    assert ONE_FORMAT.search(page.split('id="vigil-overall"')[1])


def test_it_uses_the_right_article_in_a_refused_transition():
    world = ops_world()
    api = APIClient()
    api.force_authenticate(role_user("operator"))
    url = f"/api/status/admin/incidents/{world['incident'].pk}"
    api.put(url, {"status": "resolved", "message": "Fixed"}, format="json")
    response = api.put(url, {"status": "investigating", "message": "Again"}, format="json")
    assert response.status_code == 409
    assert response.json()["detail"].startswith("An incident cannot go from resolved")


def test_it_counts_the_default_rules_that_exist_in_the_demo_summary():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    line = next(line for line in out.getvalue().splitlines() if "alerts:" in line)
    assert f"{len(default_rules())} default rules" in line
