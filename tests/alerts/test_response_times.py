"""MTTA and MTTR per severity on fixed data: the same figures on SQLite and PostgreSQL (the suite
runs this file in both modes with the same expected numbers)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from alerts.response_times import response_times, response_times_windows
from alerts.services import alert_acknowledge, alert_raise, alert_reopen, alert_resolve
from tests.alerts.factories import AlertFactory
from tests.config.factories import role_user

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def alert(*, days_ago: float, severity="critical", acks=(), resolved_after=None):
    """An alert fired `days_ago` before NOW, acknowledged `acks` seconds after it fired (the
    first one counts), resolved `resolved_after` seconds after it fired."""
    fired = NOW - timedelta(days=days_ago)
    return AlertFactory(
        severity=severity,
        fired_at=fired,
        status="resolved" if resolved_after is not None else ("acknowledged" if acks else "firing"),
        first_acknowledged_at=fired + timedelta(seconds=acks[0]) if acks else None,
        acknowledged_at=fired + timedelta(seconds=acks[-1]) if acks else None,
        resolved_at=None if resolved_after is None else fired + timedelta(seconds=resolved_after),
    )


@pytest.fixture
def history():
    alert(days_ago=1, acks=[60], resolved_after=600)
    alert(days_ago=2, acks=[180, 1000], resolved_after=1200)  # reopened and acknowledged again
    alert(days_ago=3, resolved_after=300)  # resolved without anyone acknowledging it
    alert(days_ago=20, acks=[30])  # still open
    alert(days_ago=100, acks=[5], resolved_after=10)  # outside every window
    alert(days_ago=1, severity="low")  # nobody answered


def test_it_gives_mtta_and_mttr_over_seven_days(history):
    critical = response_times(7, now=NOW)["by_severity"]["critical"]
    assert critical == {
        "alerts": 3,
        "acknowledge": {"count": 2, "never": 1, "mean_seconds": 120.0, "median_seconds": 120.0},
        "resolve": {"count": 3, "unresolved": 0, "mean_seconds": 700.0, "median_seconds": 600.0},
    }


def test_it_counts_open_alerts_as_unresolved_over_thirty_days(history):
    critical = response_times(30, now=NOW)["by_severity"]["critical"]
    assert critical["alerts"] == 4
    assert critical["acknowledge"] == {"count": 3, "never": 1, "mean_seconds": 90.0, "median_seconds": 60.0}
    assert critical["resolve"] == {
        "count": 3,
        "unresolved": 1,
        "mean_seconds": 700.0,
        "median_seconds": 600.0,
    }


def test_it_counts_never_acknowledged_alerts_as_such_not_as_zero(history):
    low = response_times(7, now=NOW)["by_severity"]["low"]
    assert low["acknowledge"] == {"count": 0, "never": 1, "mean_seconds": None, "median_seconds": None}
    assert response_times(90, now=NOW)["by_severity"]["high"]["alerts"] == 0


def test_it_costs_the_same_queries_however_many_alerts(history):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response_times(90, now=NOW)
        return len(captured)

    few = queries()
    for day in range(30):
        alert(days_ago=day % 80, severity=["critical", "high", "medium", "low"][day % 4], acks=[day + 1])
    assert queries() == few


def test_it_measures_to_the_first_acknowledgement_when_an_alert_was_reopened():
    alert = alert_raise(fingerprint="x", title="X", severity="high", now=NOW).alert
    alert_acknowledge(alert=alert, now=NOW + timedelta(seconds=40))
    alert_resolve(alert=alert, now=NOW + timedelta(seconds=50))
    alert_reopen(alert=alert, now=NOW + timedelta(seconds=60))
    alert_acknowledge(alert=alert, now=NOW + timedelta(seconds=500))
    high = response_times(7, now=NOW + timedelta(hours=1))["by_severity"]["high"]
    assert high["acknowledge"]["mean_seconds"] == 40.0 and high["resolve"]["unresolved"] == 1


def test_the_dashboard_reads_all_windows_at_once_with_the_same_figures(history):
    windows = response_times_windows(now=NOW)
    assert [windows[days] for days in (7, 30, 90)] == [response_times(days, now=NOW) for days in (7, 30, 90)]


def test_the_api_gives_the_same_figures(history, api, settings):
    import time_machine

    with time_machine.travel(NOW, tick=False):
        body = api.get("/api/operations/alerts/response-times", {"days": "30"}).json()
    assert body["days"] == 30 and body["by_severity"] == response_times(30, now=NOW)["by_severity"]


@pytest.mark.parametrize("days", ["14", "seven", "", "-7"])
def test_it_refuses_a_bad_window_naming_days(api, days):
    response = api.get("/api/operations/alerts/response-times", {"days": days})
    assert response.status_code == 400 and "days" in response.json()["errors"]


def test_a_viewer_reads_them_and_anonymous_cannot():
    viewer = APIClient()
    viewer.force_authenticate(role_user("viewer"))
    assert viewer.get("/api/operations/alerts/response-times").status_code == 200
    assert APIClient().get("/api/operations/alerts/response-times").status_code in (401, 403)
