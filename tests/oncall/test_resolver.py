"""Who is on call: the pure resolver, across clock changes, restrictions, layers and overrides."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from oncall.resolver import Layer, Override, Plan, gaps, on_call, on_call_many, timeline

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
ALICE, BOB, CAROL, DAN = 1, 2, 3, 4


def local(zone, *args) -> datetime:
    return datetime(*args, tzinfo=zone)


def daily(zone=BERLIN, members=(ALICE, BOB), handoff=time(9), starts_on=date(2025, 3, 1), **extra):
    return Plan(zone=zone, layers=(Layer(1, members, "daily", starts_on, handoff, **extra),))


def shift_at(plan, at):
    return next(
        s
        for s in timeline(plan, at - timedelta(days=3), at + timedelta(days=3))
        if s.starts_at <= at < s.ends_at
    )


def test_it_keeps_a_daily_hand_off_at_local_time_when_berlin_springs_forward():
    plan = daily()
    shift = shift_at(plan, local(BERLIN, 2025, 3, 29, 12))
    assert shift.starts_at == local(BERLIN, 2025, 3, 29, 9)
    assert shift.ends_at == local(BERLIN, 2025, 3, 30, 9)
    assert shift.ends_at.astimezone(BERLIN).hour == 9 and shift.hours == 23


def test_it_keeps_a_daily_hand_off_at_local_time_when_berlin_falls_back():
    shift = shift_at(daily(), local(BERLIN, 2025, 10, 25, 12))
    assert shift.ends_at == local(BERLIN, 2025, 10, 26, 9) and shift.hours == 25


def test_it_hands_over_at_nine_on_both_sides_of_the_clock_change():
    plan = daily()
    assert on_call(plan, local(BERLIN, 2025, 3, 30, 8, 59)) != on_call(plan, local(BERLIN, 2025, 3, 30, 9, 0))
    assert on_call(plan, local(BERLIN, 2025, 3, 30, 9, 0)) == on_call(plan, local(BERLIN, 2025, 3, 31, 8, 59))


def test_it_keeps_a_new_york_daily_hand_off_at_local_time_across_both_changes():
    plan = daily(zone=NEW_YORK, starts_on=date(2025, 1, 1))
    assert shift_at(plan, local(NEW_YORK, 2025, 3, 8, 12)).hours == 23  # spring forward, 9 March
    assert shift_at(plan, local(NEW_YORK, 2025, 11, 1, 12)).hours == 25  # fall back, 2 November
    assert shift_at(plan, local(NEW_YORK, 2025, 11, 2, 12)).starts_at == local(NEW_YORK, 2025, 11, 2, 9)


def test_it_counts_elapsed_hours_for_an_n_hour_rotation_across_a_change():
    plan = Plan(NEW_YORK, (Layer(1, (ALICE, BOB), "hours", date(2025, 3, 8), time(8), shift_hours=12),))
    shifts = timeline(plan, local(NEW_YORK, 2025, 3, 8, 8), local(NEW_YORK, 2025, 3, 10, 8))
    assert {shift.hours for shift in shifts[:-1]} == {12}
    # Before the change the hand-offs are at 08:00 and 20:00; after it, at 09:00 and 21:00.
    assert [s.starts_at.astimezone(NEW_YORK).hour for s in shifts] == [8, 20, 9, 21]


def test_it_counts_elapsed_hours_when_berlin_falls_back():
    plan = Plan(BERLIN, (Layer(1, (ALICE, BOB), "hours", date(2025, 10, 25), time(8), shift_hours=12),))
    shifts = timeline(plan, local(BERLIN, 2025, 10, 25, 8), local(BERLIN, 2025, 10, 27, 8))
    # The night of the change has 25 hours: the window's last hour starts a fifth shift.
    assert [s.starts_at.astimezone(BERLIN).hour for s in shifts] == [8, 20, 7, 19, 7]
    assert [s.hours for s in shifts] == [12, 12, 12, 12, 1]


def test_it_hands_off_in_the_skipped_hour_when_the_clocks_have_moved_on():
    plan = daily(handoff=time(2, 30))
    shift = shift_at(plan, local(BERLIN, 2025, 3, 30, 12))
    assert shift.starts_at == datetime(2025, 3, 30, 1, 30, tzinfo=UTC)  # 03:30 CEST


def test_it_hands_off_the_first_time_a_repeated_hour_comes():
    plan = daily(handoff=time(2, 30))
    shift = shift_at(plan, local(BERLIN, 2025, 10, 26, 12))
    assert shift.starts_at == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)  # 02:30 CEST, not CET


def test_it_rotates_weekly_through_the_members_in_order():
    plan = Plan(BERLIN, (Layer(1, (ALICE, BOB, CAROL), "weekly", date(2025, 3, 3), time(10)),))
    mondays = [local(BERLIN, 2025, 3, 3, 10) + timedelta(weeks=n) for n in range(4)]
    assert on_call_many(plan, mondays) == [ALICE, BOB, CAROL, ALICE]
    assert on_call(plan, local(BERLIN, 2025, 3, 10, 9, 59)) == ALICE


def test_it_has_nobody_before_the_layer_begins():
    assert on_call(daily(), local(BERLIN, 2025, 3, 1, 8, 59)) is None
    assert on_call(daily(), local(BERLIN, 2025, 3, 1, 9)) == ALICE


def test_it_lets_a_restricted_layer_cover_only_its_weekdays_and_hours():
    office = Layer(
        2,
        (CAROL,),
        "weekly",
        date(2025, 3, 3),
        time(9),
        weekdays=frozenset(range(5)),
        covers_from=time(9),
        covers_to=time(17),
    )
    plan = Plan(BERLIN, (office,))
    assert on_call(plan, local(BERLIN, 2025, 3, 5, 10)) == CAROL  # Wednesday
    assert on_call(plan, local(BERLIN, 2025, 3, 5, 17)) is None
    assert on_call(plan, local(BERLIN, 2025, 3, 8, 10)) is None  # Saturday


def test_it_runs_an_overnight_window_into_the_next_day():
    nights = Layer(
        1,
        (DAN,),
        "daily",
        date(2025, 3, 1),
        time(18),
        weekdays=frozenset({4}),
        covers_from=time(18),
        covers_to=time(8),
    )
    plan = Plan(BERLIN, (nights,))
    assert on_call(plan, local(BERLIN, 2025, 3, 7, 23)) == DAN  # Friday night
    assert on_call(plan, local(BERLIN, 2025, 3, 8, 7, 59)) == DAN  # Saturday morning
    assert on_call(plan, local(BERLIN, 2025, 3, 8, 8)) is None
    assert on_call(plan, local(BERLIN, 2025, 3, 6, 23)) is None  # Thursday night


def test_it_lets_the_higher_layer_win_where_layers_overlap():
    base = Layer(1, (ALICE,), "weekly", date(2025, 3, 3), time(9))
    office = Layer(5, (CAROL,), "weekly", date(2025, 3, 3), time(9), covers_from=time(9), covers_to=time(17))
    plan = Plan(BERLIN, (base, office))
    assert on_call(plan, local(BERLIN, 2025, 3, 5, 12)) == CAROL
    assert on_call(plan, local(BERLIN, 2025, 3, 5, 20)) == ALICE


def test_it_lets_an_override_beat_every_layer_and_the_latest_override_win():
    base = Layer(1, (ALICE,), "weekly", date(2025, 3, 3), time(9))
    first = Override(BOB, local(BERLIN, 2025, 3, 5, 10), local(BERLIN, 2025, 3, 5, 14), order=1)
    later = Override(DAN, local(BERLIN, 2025, 3, 5, 12), local(BERLIN, 2025, 3, 5, 13), order=2)
    plan = Plan(BERLIN, (base,), (first, later))
    at = [local(BERLIN, 2025, 3, 5, hour) for hour in (9, 11, 12, 13, 14)]
    assert on_call_many(plan, at) == [ALICE, BOB, DAN, BOB, ALICE]


def test_it_lists_the_gaps_of_a_timeline_with_their_hours():
    office = Layer(1, (CAROL,), "weekly", date(2025, 3, 3), time(9), covers_from=time(9), covers_to=time(17))
    plan = Plan(BERLIN, (office,))
    shifts = timeline(plan, local(BERLIN, 2025, 3, 4, 0), local(BERLIN, 2025, 3, 5, 0))
    assert [(s.user_id, s.hours) for s in shifts] == [(None, 9), (CAROL, 8), (None, 7)]
    assert [s.hours for s in gaps(shifts)] == [9, 7]


def test_it_answers_a_plan_without_layers_with_nobody():
    plan = Plan(BERLIN)
    assert on_call(plan, local(BERLIN, 2025, 3, 5, 12)) is None
    assert [s.user_id for s in timeline(plan, local(BERLIN, 2025, 3, 5), local(BERLIN, 2025, 3, 6))] == [None]
