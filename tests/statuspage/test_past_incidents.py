"""The home page's "Past incidents" lists each day's incidents, open ones included, and the demo
seed's maintenance timeline reads in the order it happened."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from statuspage import services
from statuspage.demo import seed_statuspage
from statuspage.models import Maintenance, MaintenanceStatus

pytestmark = pytest.mark.django_db
NOON = datetime(2025, 3, 12, 12, 0, tzinfo=UTC)


def _days(html: str) -> list[str]:
    past = html[html.index('id="past-title"') :]
    return re.findall(r'<div class="past__day">(.*?)</div>', past, flags=re.S)


@time_machine.travel(NOON, tick=False)
def test_it_lists_an_open_incident_under_the_day_it_started(client):
    services.incident_create(
        title="Search is slow", message="Looking into it.", started_at=NOON - timedelta(hours=2), notify=False
    )
    today = _days(client.get("/").content.decode())[0]
    assert "Search is slow" in today
    assert "No incidents reported" not in today


@time_machine.travel(NOON, tick=False)
def test_it_lists_a_resolved_incident_of_yesterday_under_yesterday(client):
    incident = services.incident_create(
        title="Login errors", message="Looking.", started_at=NOON - timedelta(days=1), notify=False
    )
    services.incident_update_create(incident=incident, status="resolved", message="Fixed.", notify=False)
    today, yesterday = _days(client.get("/").content.decode())[:2]
    assert "No incidents reported" in today
    assert "Login errors" in yesterday


def test_it_seeds_a_finished_maintenance_with_its_updates_in_the_order_they_happened():
    seed_statuspage()
    finished = Maintenance.objects.get(status=MaintenanceStatus.COMPLETED)
    updates = list(finished.updates.order_by("-display_at"))
    assert [u.status for u in updates] == ["completed", "in_progress", "scheduled"]
    assert updates[-1].display_at < finished.scheduled_for
    assert updates[0].display_at == finished.completed_at


def test_it_shows_the_finished_maintenance_newest_update_first(client):
    seed_statuspage()
    finished = Maintenance.objects.get(status=MaintenanceStatus.COMPLETED)
    html = client.get(finished.get_absolute_url()).content.decode()
    timeline = html[html.index('id="timeline-title"') :]
    shown = re.findall(r'<strong class="update__status">(.*?)</strong>', timeline)
    assert shown == ["Completed", "In progress", "Scheduled"]
