"""The maintenance calendar feeds: one event per window with a UID that never changes and a
SEQUENCE that grows with each change, the whole page's or one component's, texts inert."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from icalendar import Calendar

from statuspage import services
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db


def events(client, path="/feeds/maintenance.ics") -> list:
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return [c for c in Calendar.from_ical(response.content).walk("VEVENT")]


def window(title="Database upgrade", components=(), hours_ahead=24, **fields):
    start = timezone.now() + timedelta(hours=hours_ahead)
    return services.maintenance_schedule(
        title=title,
        scheduled_for=start,
        scheduled_until=start + timedelta(hours=2),
        components=components,
        notify=False,
        **fields,
    )


def test_it_lists_each_window_as_one_event_with_its_times(client):
    maintenance = window(components=[ComponentFactory(name="Database")])
    [event] = events(client)
    assert str(event["summary"]) == "Maintenance: Database upgrade"
    assert event.decoded("dtstart") == maintenance.scheduled_for.replace(microsecond=0)
    assert event.decoded("dtend") == maintenance.scheduled_until.replace(microsecond=0)
    assert "Affected: Database" in str(event["description"])
    assert str(event["url"]).endswith(f"/maintenance/{maintenance.pk}")


def test_a_rescheduled_window_keeps_its_uid_and_gets_a_higher_sequence(
    client, django_capture_on_commit_callbacks
):
    maintenance = window()
    [before] = events(client)
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        with django_capture_on_commit_callbacks(execute=True):
            services.maintenance_edit(
                maintenance=maintenance, scheduled_until=maintenance.scheduled_until + timedelta(hours=1)
            )
        [after] = events(client)
    assert str(after["uid"]) == str(before["uid"])
    assert int(after["sequence"]) > int(before["sequence"])
    assert after.decoded("dtend") == (maintenance.scheduled_until + timedelta(hours=1)).replace(microsecond=0)


def test_a_components_feed_holds_only_its_windows(client):
    database, api = ComponentFactory(name="Database"), ComponentFactory(name="API")
    window("Database upgrade", components=[database])
    window("API deploy", components=[api])
    [event] = events(client, f"/feeds/components/{api.pk}/maintenance.ics")
    assert str(event["summary"]) == "Maintenance: API deploy"


def test_it_leaves_out_windows_that_ended_long_ago(client):
    window("Long ago", hours_ahead=-24 * 40, record_history=True)
    window("Soon")
    assert [str(e["summary"]) for e in events(client)] == ["Maintenance: Soon"]


def test_a_hostile_title_arrives_as_text(client):
    window('Upgrade\r\nBEGIN:VEVENT\r\nSUMMARY:fake <script>"')
    response = client.get("/feeds/maintenance.ics")
    assert response.content.split(b"\r\n").count(b"BEGIN:VEVENT") == 1
    [event] = events(client)
    assert "BEGIN:VEVENT" in str(event["summary"])


def test_an_unknown_component_is_a_404(client):
    assert client.get("/feeds/components/999999/maintenance.ics").status_code == 404


def test_the_feed_refuses_writes(client):
    assert client.post("/feeds/maintenance.ics").status_code == 405


# --- SEQUENCE: the window's own counter --------------------------------------------------


def test_a_new_window_starts_at_sequence_zero(client):
    window()
    [event] = events(client)
    assert int(event["sequence"]) == 0


def test_it_raises_the_sequence_once_per_edit_that_changes_what_a_calendar_shows():
    maintenance = window()
    services.maintenance_edit(maintenance=maintenance, title="Database upgrade, part 1")
    services.maintenance_edit(maintenance=maintenance, description="Primary first.")
    maintenance.refresh_from_db()
    assert maintenance.sequence == 2


def test_an_edit_that_changes_nothing_shown_keeps_the_sequence():
    maintenance = window()
    services.maintenance_edit(maintenance=maintenance, title=maintenance.title, auto_start=False)
    maintenance.refresh_from_db()
    assert maintenance.sequence == 0


def test_changing_the_components_raises_the_sequence():
    maintenance = window()
    services.maintenance_edit(maintenance=maintenance, components=[ComponentFactory()])
    maintenance.refresh_from_db()
    assert maintenance.sequence == 1


def test_each_status_change_raises_the_sequence():
    maintenance = window(hours_ahead=-1)
    services.maintenance_start(maintenance=maintenance, notify=False)
    services.maintenance_complete(maintenance=maintenance, notify=False)
    maintenance.refresh_from_db()
    assert maintenance.sequence == 2


def test_the_feed_shows_the_sequence_counter(client):
    maintenance = window()
    services.maintenance_edit(maintenance=maintenance, title="Moved")
    services.maintenance_edit(maintenance=maintenance, title="Moved again")
    [event] = events(client)
    assert int(event["sequence"]) == 2


# --- cancelled windows ---------------------------------------------------------------------


def test_a_cancelled_window_stays_in_the_feed_as_cancelled(client):
    maintenance = window()
    services.maintenance_cancel(maintenance=maintenance)
    [event] = events(client)
    assert str(event["status"]) == "CANCELLED"


def test_cancelling_raises_the_sequence_a_calendar_already_saw(client, django_capture_on_commit_callbacks):
    maintenance = window()
    [before] = events(client)
    with django_capture_on_commit_callbacks(execute=True):
        services.maintenance_cancel(maintenance=maintenance)
    [after] = events(client)
    assert (str(after["uid"]), int(after["sequence"])) == (str(before["uid"]), int(before["sequence"]) + 1)


def test_a_window_that_goes_on_is_confirmed(client):
    window()
    [event] = events(client)
    assert str(event["status"]) == "CONFIRMED"
