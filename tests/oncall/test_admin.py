"""The schedule's admin page: the next 14 days with gaps flagged, and saving through the service."""

from datetime import UTC, date, datetime, time

import pytest
import time_machine

from oncall.models import CalendarFeed, Schedule
from tests.config.factories import role_user
from tests.oncall.factories import daily_layer, person, schedule

pytestmark = pytest.mark.django_db


@time_machine.travel(datetime(2025, 3, 3, 6, tzinfo=UTC), tick=False)
def test_it_shows_the_next_14_days_and_flags_the_gaps(admin_client_):
    alice = person("alice")
    office = daily_layer(alice, starts_on=date(2025, 3, 1), restrict_from=time(9), restrict_to=time(17))
    primary = schedule(layers=[office])
    page = admin_client_.get(f"/admin/oncall/schedule/{primary.pk}/change/").content.decode()
    assert "15 gaps in the next 14 days: 224.0 h with nobody on call." in page
    assert page.count("Gap: nobody on call") == 15
    assert "Mon 2025-03-03 09:00" in page and page.count("<td>alice</td>") == 14


def test_it_says_when_someone_is_always_on_call(admin_client_):
    primary = schedule(layers=[daily_layer(person("alice"), starts_on=date(2020, 1, 1))])
    page = admin_client_.get(f"/admin/oncall/schedule/{primary.pk}/change/").content.decode()
    assert "Someone is on call for all of the next 14 days." in page


def _form(**change) -> dict:
    return {
        "name": "Primary",
        "time_zone": "Europe/Berlin",
        "layers-TOTAL_FORMS": "1",
        "layers-INITIAL_FORMS": "0",
        "layers-0-level": "1",
        "layers-0-people": "bob, alice",
        "layers-0-rotation": "weekly",
        "layers-0-starts_on": "2025-03-03",
        "layers-0-handoff_time": "09:00",
        "layers-0-restrict_weekdays": ["0", "4"],
        "overrides-TOTAL_FORMS": "0",
        "overrides-INITIAL_FORMS": "0",
        **change,
    }


def test_it_saves_a_schedule_with_its_layer_in_rotation_order(admin_client_):
    alice, bob = person("alice"), person("bob")
    response = admin_client_.post("/admin/oncall/schedule/add/", _form())
    assert response.status_code == 302, response.context["errors"] if response.context else response
    layer = Schedule.objects.get().layers.get()
    assert [m.user for m in layer.memberships.all()] == [bob, alice]
    assert layer.restrict_weekdays == [0, 4]


@pytest.mark.parametrize(
    ("change", "text"),
    [
        ({"layers-0-people": "bob, nobody"}, "No active user named nobody."),
        ({"layers-0-people": " , "}, "A layer needs at least one person."),
        ({"time_zone": "Mars/Olympus"}, "is not a time zone"),
        ({"layers-0-rotation": "hours"}, "needs the number of hours"),
    ],
)
def test_it_refuses_a_bad_schedule_with_the_form_s_message(admin_client_, change, text):
    person("alice"), person("bob")
    response = admin_client_.post("/admin/oncall/schedule/add/", _form(**change))
    assert response.status_code == 200
    assert text in response.content.decode()
    assert not Schedule.objects.exists()


def test_it_issues_a_calendar_url_once_and_keeps_only_its_digest(admin_client_):
    alice = role_user("viewer")
    response = admin_client_.post("/admin/oncall/calendarfeed/add/", {"user": alice.pk}, follow=True)
    [message] = [str(m) for m in response.context["messages"] if "Calendar URL" in str(m)]
    token = message.split("/oncall/calendar/")[1].split(".ics")[0]
    assert CalendarFeed.objects.get(user=alice).token_digest != token
    assert admin_client_.get(f"/oncall/calendar/{token}.ics").status_code == 200


def test_a_person_sees_and_edits_only_their_own_contact_methods_in_the_console(client):
    from oncall.models import ContactMethod

    viewer = role_user("viewer")
    mine = ContactMethod.objects.create(user=viewer, kind="email", address="me@example.com")
    theirs = ContactMethod.objects.create(user=person("mallory"), kind="email", address="m@example.com")
    client.force_login(viewer)
    listing = client.get("/admin/oncall/contactmethod/").content.decode()
    assert "me@example.com" in listing and "m@example.com" not in listing
    assert client.get(f"/admin/oncall/contactmethod/{theirs.pk}/change/").status_code in (302, 403, 404)
    client.post(
        f"/admin/oncall/contactmethod/{theirs.pk}/change/", {"kind": "email", "address": "x@example.com"}
    )
    theirs.refresh_from_db()
    assert theirs.address == "m@example.com"
    saved = client.post(
        f"/admin/oncall/contactmethod/{mine.pk}/change/", {"kind": "email", "address": "new@example.com"}
    )
    assert saved.status_code == 302
    mine.refresh_from_db()
    assert mine.address == "new@example.com" and mine.user == viewer


def test_an_administrator_sees_everyones_contact_methods(client):
    from oncall.models import ContactMethod

    ContactMethod.objects.create(user=person("mallory"), kind="email", address="m@example.com")
    client.force_login(role_user("administrator"))
    assert "m@example.com" in client.get("/admin/oncall/contactmethod/").content.decode()


def test_the_console_saves_a_policy_with_its_steps_through_the_service(admin_client_):
    from oncall.models import EscalationPolicy

    primary = schedule(layers=[daily_layer(person("alice"))])
    form = {
        "name": "Databases",
        "repeat": "1",
        # What the browser sends for the weekly drill's fields left at their defaults.
        "drill_weekday": "",
        "drill_time": "10:00:00",
        "drill_time_zone": "UTC",
        "steps-TOTAL_FORMS": "1",
        "steps-INITIAL_FORMS": "0",
        "steps-0-level": "1",
        "steps-0-escalate_after_minutes": "5",
        "steps-0-repeat": "0",
        "steps-0-schedules": [str(primary.pk)],
    }
    answer = admin_client_.post("/admin/oncall/escalationpolicy/add/", form)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert EscalationPolicy.objects.get().steps.get().schedules.get() == primary
