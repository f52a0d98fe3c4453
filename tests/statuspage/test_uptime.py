from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command

from statuspage import services, uptime
from statuspage.models import ComponentStatusChange, ComponentUptimeDay
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


def _at(days_ago: int, hour: int) -> datetime:
    return datetime.combine(TODAY - timedelta(days=days_ago), datetime.min.time(), tzinfo=UTC) + timedelta(
        hours=hour
    )


def _history(component, *changes):
    """Hand-made history: (days ago, hour, from, to)."""
    for days_ago, hour, old, new in changes:
        ComponentStatusChange.objects.create(
            component=component, from_status=old, to_status=new, at=_at(days_ago, hour), source="manual"
        )


def _by_day(component, days=4):
    figures = uptime.figures_for([component], days=days, now=NOW)[component.pk]
    return {f.day: f for f in figures}


@pytest.fixture
def api():
    return ComponentFactory(created_at=_at(3, 0), status="operational")


def test_it_counts_major_fully_and_partial_at_three_tenths(api):
    _history(api, (2, 6, "operational", "major_outage"), (2, 12, "major_outage", "partial_outage"))
    _history(api, (2, 18, "partial_outage", "operational"))
    uptime.component_uptime_refresh(api, since=_at(3, 0), now=NOW)
    day = _by_day(api)[TODAY - timedelta(days=2)]
    assert day.uptime == pytest.approx(1 - (6 + 0.3 * 6) / 24)
    assert (day.major_outage_seconds, day.partial_outage_seconds) == (6 * 3600, 6 * 3600)


def test_it_counts_degraded_and_maintenance_as_up(api):
    _history(
        api,
        (1, 0, "operational", "degraded_performance"),
        (1, 8, "degraded_performance", "under_maintenance"),
    )
    _history(api, (1, 10, "under_maintenance", "operational"))
    uptime.component_uptime_refresh(api, since=_at(3, 0), now=NOW)
    day = _by_day(api)[TODAY - timedelta(days=1)]
    assert day.uptime == 1.0
    assert (day.degraded_seconds, day.maintenance_seconds, day.level) == (8 * 3600, 2 * 3600, "degraded")


def test_it_splits_an_outage_across_midnight(api):
    _history(api, (1, 22, "operational", "major_outage"), (0, 2, "major_outage", "operational"))
    uptime.component_uptime_refresh(api, since=_at(3, 0), now=NOW)
    days = _by_day(api)
    assert days[TODAY - timedelta(days=1)].major_outage_seconds == 2 * 3600
    # Today is observed up to now (12:00): 2 h down out of 12.
    assert days[TODAY].uptime == pytest.approx(1 - 2 / 12)


def test_it_extends_today_with_the_current_status_up_to_now(api):
    _history(api, (0, 6, "operational", "major_outage"))
    api.status = "major_outage"
    api.save()
    with time_machine.travel(_at(0, 8), tick=False):
        uptime.component_uptime_refresh(api, since=_at(0, 0))
    assert _by_day(api)[TODAY].major_outage_seconds == 6 * 3600


def test_it_shows_no_data_before_the_component_existed(api):
    uptime.component_uptime_refresh(api, since=_at(5, 0), now=NOW)
    figures = uptime.figures_for([api], days=6, now=NOW)[api.pk]
    assert [f.uptime is None for f in figures] == [True, True, False, False, False, False]


def test_it_computes_the_period_percentage_over_observed_time(api):
    _history(api, (2, 0, "operational", "major_outage"), (2, 12, "major_outage", "operational"))
    uptime.component_uptime_refresh(api, since=_at(3, 0), now=NOW)
    figures = uptime.figures_for([api], days=90, now=NOW)[api.pk]
    # 3 days + 12 h observed, 12 h of it down.
    assert uptime.percentage(figures) == pytest.approx(round(100 * (1 - 12 / 84), 2))


def test_it_keeps_daily_rows_from_status_changes():
    with time_machine.travel(NOW, tick=False):
        api = ComponentFactory(created_at=_at(3, 0))
        services.component_set_status(component=api, status="major_outage")
    row = ComponentUptimeDay.objects.get(component=api, day=TODAY)
    assert (row.closed, row.observed_seconds) == (False, 12 * 3600)


def test_it_rolls_up_and_closes_days_idempotently(api):
    _history(api, (2, 6, "operational", "major_outage"), (2, 7, "major_outage", "operational"))
    with time_machine.travel(NOW, tick=False):
        call_command("rollup_uptime")
        call_command("rollup_uptime")
    rows = ComponentUptimeDay.objects.filter(component=api).order_by("day")
    assert [r.day for r in rows] == [TODAY - timedelta(days=d) for d in (3, 2, 1, 0)]
    assert [r.closed for r in rows] == [True, True, True, False]
    assert rows[1].major_outage_seconds == 3600


def test_it_reads_ninety_days_from_kept_rows_without_replaying_changes(api, django_assert_num_queries):
    with django_assert_num_queries(1):
        uptime.figures_for([api], days=90, now=NOW)


def test_it_reports_uptime_over_the_api(client, api):
    _history(api, (1, 0, "operational", "major_outage"), (1, 6, "major_outage", "operational"))
    uptime.component_uptime_refresh(api, since=_at(3, 0), now=NOW)
    with time_machine.travel(NOW, tick=False):
        body = client.get(f"/api/status/components/{api.pk}/uptime?days=2").json()
    assert [d["date"] for d in body["daily"]] == [str(date(2026, 3, 9)), str(TODAY)]
    assert body["daily"][0]["uptime_percentage"] == 75.0
    assert body["uptime_percentage"] == pytest.approx(round(100 * (1 - 6 / 36), 2))
    assert "0.3" in body["formula"]


@pytest.mark.parametrize("days", ["0", "91", "abc", "-3"])
def test_it_refuses_a_bad_day_count(client, api, days):
    response = client.get(f"/api/status/components/{api.pk}/uptime?days={days}")
    assert response.status_code == 400
    assert "days" in response.json()["errors"]


def test_it_answers_404_for_an_unknown_component_uptime(client):
    assert client.get("/api/status/components/999/uptime").status_code == 404


def test_it_gives_the_figures_of_spans_shorter_than_a_day_from_one_replay(api):
    _history(api, (0, 9, "operational", "partial_outage"), (0, 10, "partial_outage", "major_outage"))
    api.status = "major_outage"
    hour, six_hours = uptime.interval_figures(api, [_at(0, 11), _at(0, 6)], NOW)
    # The last hour all major outage; of the last six, 1 h partial and 2 h major.
    assert (hour.observed_seconds, hour.major_outage_seconds, hour.uptime) == (3600, 3600, 0.0)
    assert six_hours.weighted_down == 2 * 3600 + 0.3 * 3600
    assert six_hours.uptime == pytest.approx(1 - 2.3 / 6)


def test_it_gives_the_figures_of_any_span_of_kept_days(api):
    _history(api, (2, 0, "operational", "major_outage"), (2, 12, "major_outage", "operational"))
    uptime.component_uptime_refresh(api, since=_at(3, 0), now=NOW)
    figures = uptime.figures_between(
        [api], first=TODAY - timedelta(days=2), last=TODAY - timedelta(days=1), now=NOW
    )
    assert uptime.ratio(figures[api.pk]) == 0.75 and uptime.percentage(figures[api.pk]) == 75.0
