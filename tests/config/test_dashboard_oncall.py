"""The dashboard's on-call and response-time panels: now, next, gaps at fixed times; the same
answer as GET /api/operations/oncall; a bounded number of queries."""

from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from config.dashboard import Context, dashboard_data, oncall_panel
from tests.config.factories import role_user
from tests.oncall.factories import daily_layer, person, schedule

pytestmark = pytest.mark.django_db
# A Wednesday, 11:00 in Berlin (UTC+1 until the end of March).
MORNING = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
EVENING = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)


@pytest.fixture
def rota():
    alice, bob, carol = person("alice"), person("bob"), person("carol")
    schedule("Primary", layers=[daily_layer(alice, bob, starts_on=date(2025, 3, 1))])
    schedule("Office", layers=[daily_layer(carol, restrict_from=time(9), restrict_to=time(17))])


def panel(now) -> dict:
    return {item["name"]: item for item in oncall_panel(Context(now=now))["items"]}


def test_it_shows_who_is_on_call_now_and_who_is_next(rota):
    primary = panel(MORNING)["Primary"]
    assert (primary["now"], primary["until"]) == ("alice", "2026-03-05T08:00:00Z")
    assert (primary["next"], primary["next_starts_at"]) == ("bob", "2026-03-05T08:00:00Z")
    assert primary["gap_now"] is False and primary["next_gap_starts_at"] is None
    assert primary["admin_url"].endswith(f"/admin/oncall/schedule/{primary['id']}/change/")


def test_it_flags_the_coming_gap(rota):
    office = panel(MORNING)["Office"]
    assert (office["now"], office["until"], office["gap_now"]) == ("carol", "2026-03-04T16:00:00Z", False)
    assert (office["next_gap_starts_at"], office["next_gap_ends_at"]) == (
        "2026-03-04T16:00:00Z",
        "2026-03-05T08:00:00Z",
    )


def test_it_flags_a_gap_now(rota):
    data = oncall_panel(Context(now=EVENING))
    office = {item["name"]: item for item in data["items"]}["Office"]
    assert (office["now"], office["gap_now"], office["until"]) == (None, True, "2026-03-05T08:00:00Z")
    assert (office["next"], office["next_starts_at"]) == ("carol", "2026-03-05T08:00:00Z")
    assert data["gaps_now"] == 1


def test_it_answers_as_the_oncall_api_does(rota, api):
    with time_machine.travel(MORNING, tick=False):
        api_rows = {s["name"]: s for s in api.get("/api/operations/oncall").json()["schedules"]}
        panel_rows = panel(MORNING)
    for name, row in panel_rows.items():
        answer = api_rows[name]
        assert row["now"] == (answer["now"]["user"] and answer["now"]["user"]["username"])
        assert row["next"] == answer["next"]["user"]["username"]
        assert row["next_gap_starts_at"] == (answer["next_gap"] and answer["next_gap"]["starts_at"])


def test_it_reads_many_schedules_in_the_same_number_of_queries(rota):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            oncall_panel(Context(now=MORNING))
        return len(captured)

    few = queries()
    dave = person("dave")
    for i in range(12):
        schedule(f"Team {i}", layers=[daily_layer(dave)])
    assert queries() == few


def test_the_dashboard_carries_both_panels(rota):
    data = dashboard_data(now=MORNING)
    assert len(data["oncall"]["items"]) == 2
    assert set(data["response_times"]) == {"7d", "30d", "90d"}
    assert data["response_times"]["7d"]["critical"]["acknowledge"]["never"] == 0


def test_a_viewer_sees_the_panels_in_the_admin_and_the_api(rota):
    viewer = role_user("viewer")
    api = APIClient()
    api.force_authenticate(viewer)
    assert "oncall" in api.get("/api/operations/dashboard").json()
    from django.test import Client

    browser = Client()
    browser.force_login(viewer)
    with time_machine.travel(EVENING, tick=False):
        page = browser.get("/admin/").content.decode()
    assert 'id="vigil-oncall"' in page and "Nobody on call" in page
    assert 'id="vigil-response-times"' in page
    assert APIClient().get("/api/operations/dashboard").status_code in (401, 403)
