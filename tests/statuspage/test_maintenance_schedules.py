"""Recurring maintenance: an RRULE in a time zone becomes one ordinary window per occurrence, a
horizon ahead, exactly once; edits reach the occurrences that have not started, switching a
schedule off or deleting it cancels them."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.core.management import call_command

from notifications.models import Message
from statuspage import services
from statuspage.models import Maintenance, MaintenanceSchedule, MaintenanceStatus
from statuspage.schedules import services as schedules
from statuspage.schedules.rules import InvalidRule, rule_problem
from tests.statuspage.factories import ComponentFactory
from tests.subscribers.factories import SubscriberFactory

pytestmark = pytest.mark.django_db
FIRST_SUNDAY = "FREQ=MONTHLY;BYDAY=1SU"
# 1 December 2030, a Sunday; the first Sundays after it: 5 Jan, 2 Feb, 2 Mar, 6 Apr, 4 May,
# 1 Jun, 6 Jul 2031. Berlin is on CET (+01:00) until 30 March 2031, then CEST (+02:00).
DAY = datetime(2030, 12, 2, 12, 0, tzinfo=UTC)


def berlin_schedule(**fields) -> MaintenanceSchedule:
    values = {
        "title": "Monthly patching",
        "rrule": FIRST_SUNDAY,
        "start_time": time(2, 0),
        "duration": timedelta(hours=2),
        "time_zone": "Europe/Berlin",
        "starts_on": date(2030, 12, 1),
        "notify": False,
        **fields,
    }
    return schedules.schedule_create(**values)


def windows() -> list[tuple[datetime, datetime]]:
    rows = Maintenance.objects.exclude(status=MaintenanceStatus.CANCELLED).order_by("scheduled_for")
    return [(m.scheduled_for, m.scheduled_until) for m in rows]


@pytest.fixture
def december(settings):
    settings.MAINTENANCE_SCHEDULE_HORIZON_DAYS = 40
    with time_machine.travel(DAY, tick=False):
        yield


# --- the rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        "",
        "FREQ=SOMETIMES",
        "FREQ=HOURLY",
        "DTSTART:20300101T000000\nRRULE:FREQ=DAILY",
        "BYDAY=XX",
        "FREQ=DAILY;UNTIL=20311231T000000",
        # Rules that match no date at all, which dateutil would search to the year 9999:
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=7",
    ],
)
def test_it_names_what_is_wrong_with_a_bad_rule(rule):
    assert rule_problem(rule)


@pytest.mark.parametrize(
    "rule",
    [
        FIRST_SUNDAY,
        "RRULE:FREQ=WEEKLY;BYDAY=TU",
        "FREQ=DAILY;UNTIL=20311231T000000Z",
        "FREQ=MONTHLY;BYMONTHDAY=-1",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
    ],
)
def test_it_takes_a_good_rule(rule):
    assert rule_problem(rule) == ""


def test_the_service_refuses_a_bad_rule():
    with pytest.raises(InvalidRule):
        berlin_schedule(rrule="FREQ=MINUTELY")


# --- occurrences across daylight saving -------------------------------------------------------


def test_it_creates_the_first_sunday_at_two_local_in_winter(december):
    berlin_schedule()
    assert windows() == [(datetime(2031, 1, 5, 1, 0, tzinfo=UTC), datetime(2031, 1, 5, 3, 0, tzinfo=UTC))]


def test_two_local_stays_two_local_in_summer(settings):
    settings.MAINTENANCE_SCHEDULE_HORIZON_DAYS = 40
    berlin_schedule()
    with time_machine.travel(datetime(2031, 6, 2, 12, 0, tzinfo=UTC), tick=False):
        schedules.schedules_run()
    assert windows()[-1][0] == datetime(2031, 7, 6, 0, 0, tzinfo=UTC)


def test_a_start_the_clocks_skip_is_taken_after_the_change(settings):
    settings.MAINTENANCE_SCHEDULE_HORIZON_DAYS = 3
    with time_machine.travel(datetime(2031, 3, 28, 12, 0, tzinfo=UTC), tick=False):
        berlin_schedule(rrule="FREQ=DAILY", start_time=time(2, 30))
    # 30 March 2031, 02:30 does not exist in Berlin: the window starts at 03:30 CEST.
    assert windows()[1][0] == datetime(2031, 3, 30, 1, 30, tzinfo=UTC)


def test_it_creates_only_the_occurrences_within_the_horizon(settings):
    settings.MAINTENANCE_SCHEDULE_HORIZON_DAYS = 100
    with time_machine.travel(DAY, tick=False):
        berlin_schedule()
    assert len(windows()) == 3


# --- exactly once, and like a window made by hand -------------------------------------------


def test_a_second_run_creates_nothing(december):
    berlin_schedule()
    assert schedules.schedules_run() == "maintenance schedules: 0 occurrence(s) created"


def test_the_management_command_creates_what_came_into_the_horizon(december, capsys):
    schedule = berlin_schedule()
    with time_machine.travel(DAY + timedelta(days=40), tick=False):
        call_command("schedule_maintenance")
    assert "1 occurrence(s) created" in capsys.readouterr().out
    assert schedule.occurrences.count() == 2


def test_an_occurrence_is_started_and_completed_by_the_beat_job(december):
    schedule = berlin_schedule(components=[ComponentFactory()])
    with time_machine.travel(datetime(2031, 1, 5, 1, 1, tzinfo=UTC), tick=False):
        assert services.maintenance_start_due() == "maintenance: 1 started, 0 completed"
    with time_machine.travel(datetime(2031, 1, 5, 3, 1, tzinfo=UTC), tick=False):
        services.maintenance_start_due()
    assert schedule.occurrences.get().status == MaintenanceStatus.COMPLETED


def test_an_announced_schedule_announces_each_occurrence(december):
    SubscriberFactory(email="a@example.com")
    berlin_schedule(notify=True)
    assert Message.objects.filter(kind="maintenance.scheduled").count() == 1


def test_an_occurrence_cancelled_by_hand_is_not_created_again(december):
    schedule = berlin_schedule()
    services.maintenance_cancel(maintenance=schedule.occurrences.get())
    schedules.schedules_run()
    assert schedule.occurrences.count() == 1


def test_it_creates_nothing_for_an_inactive_schedule(december):
    berlin_schedule(active=False)
    assert not Maintenance.objects.exists()


# --- edits, switching off, deleting ------------------------------------------------------------


def test_an_edit_reaches_the_occurrences_that_have_not_started(december):
    schedule = berlin_schedule()
    schedules.schedule_update(schedule=schedule, title="Patching", duration=timedelta(hours=3))
    occurrence = schedule.occurrences.get()
    assert (occurrence.title, occurrence.scheduled_until - occurrence.scheduled_for) == (
        "Patching",
        timedelta(hours=3),
    )


def test_an_edit_raises_the_occurrence_s_sequence(december):
    schedule = berlin_schedule()
    schedules.schedule_update(schedule=schedule, description="Kernel updates.")
    assert schedule.occurrences.get().sequence == 1


def test_a_new_start_time_cancels_the_old_occurrences_and_creates_new_ones(december):
    schedule = berlin_schedule()
    schedules.schedule_update(schedule=schedule, start_time=time(3, 0))
    assert windows() == [(datetime(2031, 1, 5, 2, 0, tzinfo=UTC), datetime(2031, 1, 5, 4, 0, tzinfo=UTC))]
    assert schedule.occurrences.filter(status=MaintenanceStatus.CANCELLED).count() == 1


def test_an_edit_leaves_an_occurrence_under_way_alone(december):
    schedule = berlin_schedule()
    occurrence = schedule.occurrences.get()
    with time_machine.travel(datetime(2031, 1, 5, 1, 30, tzinfo=UTC), tick=False):
        services.maintenance_start(maintenance=occurrence, notify=False)
        schedules.schedule_update(schedule=schedule, title="Renamed")
    occurrence.refresh_from_db()
    assert occurrence.title == "Monthly patching"


def test_switching_a_schedule_off_cancels_its_future_occurrences(december):
    schedule = berlin_schedule()
    schedules.schedule_update(schedule=schedule, active=False)
    assert schedule.occurrences.get().status == MaintenanceStatus.CANCELLED


def test_switching_it_back_on_brings_the_occurrences_back(december):
    schedule = berlin_schedule()
    schedules.schedule_update(schedule=schedule, active=False)
    schedules.schedule_update(schedule=schedule, active=True)
    assert len(windows()) == 1


def test_deleting_a_schedule_cancels_its_future_occurrences(december):
    schedule = berlin_schedule()
    schedules.schedule_delete(schedule=schedule)
    assert Maintenance.objects.get().status == MaintenanceStatus.CANCELLED


def test_the_preview_lists_the_next_starts(december):
    schedule = berlin_schedule()
    assert schedule.next_starts(2) == [
        datetime(2031, 1, 5, 1, 0, tzinfo=UTC),
        datetime(2031, 2, 2, 1, 0, tzinfo=UTC),
    ]


def test_an_occurrence_gets_its_own_reminder(december, settings):
    from statuspage.announce import maintenance_reminders_send

    settings.SUBSCRIBERS_REMINDER_MINUTES = 60
    SubscriberFactory(email="a@example.com")
    berlin_schedule(notify=True)
    with time_machine.travel(datetime(2031, 1, 5, 0, 30, tzinfo=UTC), tick=False):
        assert maintenance_reminders_send() == "maintenance reminders: 1 sent"


def test_the_job_is_in_the_beat_schedule(settings):
    job = settings.CELERY_BEAT_SCHEDULE["schedule_maintenance"]
    assert (job["task"], job["schedule"]) == (
        "statuspage.tasks.schedule_maintenance",
        timedelta(seconds=settings.MAINTENANCE_SCHEDULE_INTERVAL),
    )
