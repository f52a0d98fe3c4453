"""Maintenance windows: past ones are history (no mail), automatic steps follow the window's
notify choice, and times are compared as instants, also across a daylight-saving change."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from notifications.models import Delivery
from statuspage import services
from statuspage.models import Maintenance, MaintenanceStatus
from tests.subscribers.factories import SubscriberFactory

pytestmark = pytest.mark.django_db
URL = "/api/status/admin/maintenance"
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def subscribers():
    return [SubscriberFactory(email=f"s{n}@example.com") for n in range(2)]


def _schedule(client, start: str, end: str, **extra):
    body = {"title": "Disk swap", "scheduled_for": start, "scheduled_until": end, **extra}
    return client.post(URL, body, format="json")


def _iso(delta: timedelta) -> str:
    return (timezone.now() + delta).isoformat()


# --- windows in the past --------------------------------------------------------------


def test_it_refuses_a_window_that_has_ended(operator_client, subscribers):
    response = _schedule(operator_client, _iso(timedelta(hours=-3)), _iso(timedelta(hours=-1)), notify=False)
    assert response.status_code == 400
    assert "record_history" in response.json()["errors"]["scheduled_until"][0]
    assert not Maintenance.objects.exists()


def test_it_refuses_a_window_in_year_one(operator_client):
    response = _schedule(operator_client, "0001-01-01T01:00:00Z", "0001-01-01T02:00:00Z")
    assert response.status_code == 400
    assert not Maintenance.objects.exists()


def test_it_records_a_past_window_as_completed_history_without_mail(operator_client, subscribers):
    response = _schedule(
        operator_client, _iso(timedelta(hours=-3)), _iso(timedelta(hours=-1)), record_history=True
    )
    assert response.status_code == 201, response.content
    maintenance = Maintenance.objects.get()
    assert maintenance.status == MaintenanceStatus.COMPLETED
    assert maintenance.completed_at == maintenance.scheduled_until
    assert services.maintenance_start_due() == "maintenance: 0 started, 0 completed"
    assert Delivery.objects.count() == 0


def test_it_refuses_history_for_a_window_not_yet_over(operator_client):
    response = _schedule(
        operator_client, _iso(timedelta(hours=-1)), _iso(timedelta(hours=1)), record_history=True
    )
    assert response.status_code == 400
    assert "scheduled_until" in response.json()["errors"]


def test_it_refuses_a_past_window_in_the_admin_form(admin_client_):
    yesterday = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%d")
    form = {
        "title": "Disk swap",
        "scheduled_for_0": yesterday,
        "scheduled_for_1": "02:00:00",
        "scheduled_until_0": yesterday,
        "scheduled_until_1": "04:00:00",
        "updates-TOTAL_FORMS": "0",
        "updates-INITIAL_FORMS": "0",
    }
    refused = admin_client_.post(reverse("admin:statuspage_maintenance_add"), form)
    assert refused.status_code == 200
    assert "record_history" in str(refused.context["adminform"].form.errors["scheduled_until"])
    recorded = admin_client_.post(
        reverse("admin:statuspage_maintenance_add"), {**form, "record_history": "on"}
    )
    assert recorded.status_code == 302
    assert Maintenance.objects.get().status == MaintenanceStatus.COMPLETED


# --- automatic start and end follow the window's notify choice --------------------------


def _run_window_automatically(client, *, notify: bool) -> None:
    response = _schedule(client, _iso(timedelta(minutes=-5)), _iso(timedelta(minutes=30)), notify=notify)
    assert response.status_code == 201, response.content
    assert services.maintenance_start_due() == "maintenance: 1 started, 0 completed"
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert services.maintenance_start_due() == "maintenance: 0 started, 1 completed"


def test_it_starts_and_completes_a_silent_window_without_mail(operator_client, subscribers):
    _run_window_automatically(operator_client, notify=False)
    assert Maintenance.objects.get().status == MaintenanceStatus.COMPLETED
    assert Delivery.objects.count() == 0


def test_it_announces_an_announced_window_s_automatic_steps(operator_client, subscribers):
    _run_window_automatically(operator_client, notify=True)
    # scheduled, started and completed, to each of the two subscribers
    assert Delivery.objects.count() == 6


# --- daylight saving time ----------------------------------------------------------------
# On 27 October 2030 Berlin's clocks go back from 03:00 CEST (+02:00) to 02:00 CET (+01:00), so
# 02:00-03:00 happens twice; on 31 March 2030 they skip from 02:00 to 03:00.


@override_settings(TIME_ZONE="Europe/Berlin")
def test_it_takes_a_thirty_minute_window_across_the_repeated_hour(operator_client):
    response = _schedule(operator_client, "2030-10-27T02:45:00+02:00", "2030-10-27T02:15:00+01:00")
    assert response.status_code == 201, response.content
    maintenance = Maintenance.objects.get()
    assert maintenance.scheduled_until - maintenance.scheduled_for == timedelta(minutes=30)


@override_settings(TIME_ZONE="Europe/Berlin")
def test_it_refuses_an_end_before_the_start_in_the_repeated_hour(operator_client):
    response = _schedule(operator_client, "2030-10-27T02:15:00+01:00", "2030-10-27T02:45:00+02:00")
    assert response.status_code == 400
    assert "scheduled_until" in response.json()["errors"]
    assert not Maintenance.objects.exists()


@override_settings(TIME_ZONE="Europe/Berlin")
@pytest.mark.parametrize("naive", ["2030-10-27T02:30:00", "2030-03-31T02:30:00"])
def test_it_refuses_a_local_time_that_is_repeated_or_skipped(operator_client, naive):
    response = _schedule(operator_client, naive, "2030-10-28T05:00:00")
    assert response.status_code == 400
    assert "Europe/Berlin" in response.json()["errors"]["scheduled_for"][0]


@override_settings(TIME_ZONE="Europe/Berlin")
def test_it_compares_aware_local_times_as_instants_in_the_service():
    start = datetime(2030, 10, 27, 2, 15, fold=1, tzinfo=BERLIN)  # 02:15 CET, the second time
    end = datetime(2030, 10, 27, 2, 45, tzinfo=BERLIN)  # 02:45 CEST, half an hour earlier
    with pytest.raises(services.InvalidWindow):
        services.maintenance_schedule(title="x", scheduled_for=start, scheduled_until=end)
    assert services.maintenance_schedule(title="y", scheduled_for=end, scheduled_until=start)


@override_settings(TIME_ZONE="Europe/Berlin")
def test_it_refuses_a_repeated_local_time_in_the_admin_form(admin_client_):
    form = {
        "title": "Disk swap",
        "scheduled_for_0": "2030-10-27",
        "scheduled_for_1": "02:30:00",
        "scheduled_until_0": "2030-10-27",
        "scheduled_until_1": "04:00:00",
        "updates-TOTAL_FORMS": "0",
        "updates-INITIAL_FORMS": "0",
    }
    response = admin_client_.post(reverse("admin:statuspage_maintenance_add"), form)
    assert response.status_code == 200
    assert "Europe/Berlin" in str(response.context["adminform"].form.errors["scheduled_for"])
    assert not Maintenance.objects.exists()
