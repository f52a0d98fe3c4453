"""The secret iCalendar feeds, read back with the icalendar package."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from icalendar import Calendar
from rest_framework.test import APIClient

from oncall.services import calendar_feed_issue
from tests.config.factories import role_user
from tests.oncall.factories import daily_layer, schedule

pytestmark = pytest.mark.django_db
NOW = datetime(2025, 3, 29, 10, tzinfo=UTC)


@pytest.fixture
def viewers():
    return role_user("administrator"), role_user("operator")


def events(response) -> list:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return list(Calendar.from_ical(response.content).walk("VEVENT"))


@time_machine.travel(NOW, tick=False)
def test_it_exports_a_person_s_own_shifts_across_the_clock_change(client, viewers):
    viewer, operator = viewers
    schedule(layers=[daily_layer(viewer, operator, starts_on=date(2025, 3, 29))])
    api = APIClient()
    api.force_authenticate(viewer)
    feed = api.post("/api/operations/oncall/calendar-feed").json()["url"]
    found = events(client.get(feed))
    starts = [event.decoded("dtstart") for event in found]
    assert datetime(2025, 3, 29, 8, tzinfo=UTC) in starts  # 09:00 CET
    assert datetime(2025, 3, 31, 7, tzinfo=UTC) in starts  # 09:00 CEST, two days on
    assert all(str(event["summary"]) == "On call: administrator (Primary)" for event in found)


@time_machine.travel(NOW, tick=False)
def test_it_exports_every_shift_of_a_schedule(client, viewers):
    viewer, operator = viewers
    primary = schedule(layers=[daily_layer(viewer, operator, starts_on=date(2025, 3, 29))])
    token = calendar_feed_issue(user=viewer)
    found = events(client.get(f"/oncall/calendar/{token}/schedules/{primary.pk}.ics"))
    names = {str(event["summary"]) for event in found}
    assert names == {"On call: administrator (Primary)", "On call: operator (Primary)"}
    assert len({str(event["uid"]) for event in found}) == len(found)


def test_it_answers_404_for_an_unknown_token(client):
    assert client.get("/oncall/calendar/not-a-token.ics").status_code == 404


def test_it_stops_the_old_url_when_a_new_one_is_issued(client, viewers):
    viewer, _ = viewers
    schedule()
    old = calendar_feed_issue(user=viewer)
    new = calendar_feed_issue(user=viewer)
    assert client.get(f"/oncall/calendar/{old}.ics").status_code == 404
    assert client.get(f"/oncall/calendar/{new}.ics").status_code == 200


def test_it_refuses_a_viewer_a_calendar_url_through_the_api():
    api = APIClient()
    api.force_authenticate(role_user("viewer"))
    assert api.post("/api/operations/oncall/calendar-feed").status_code == 403


def test_it_revokes_the_url_through_the_api(client, viewers):
    viewer, _ = viewers
    token = calendar_feed_issue(user=viewer)
    api = APIClient()
    api.force_authenticate(viewer)
    assert api.delete("/api/operations/oncall/calendar-feed").status_code == 204
    assert client.get(f"/oncall/calendar/{token}.ics").status_code == 404
    assert api.delete("/api/operations/oncall/calendar-feed").status_code == 404


def test_it_closes_the_feed_of_someone_who_lost_the_right_to_read_schedules(client, viewers):
    viewer, _ = viewers
    token = calendar_feed_issue(user=viewer)
    viewer.groups.clear()
    assert client.get(f"/oncall/calendar/{token}.ics").status_code == 404


def test_it_keeps_only_the_digest_of_the_token(viewers):
    from oncall.models import CalendarFeed

    viewer, _ = viewers
    token = calendar_feed_issue(user=viewer)
    assert token not in CalendarFeed.objects.values_list("token_digest", flat=True).get()
