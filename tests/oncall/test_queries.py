"""Reading schedules for the resolver: a fixed number of queries, whatever the schedule holds."""

from datetime import UTC, date, datetime, timedelta

import pytest

from oncall.models import Schedule
from oncall.queries import schedule_plans, who_is_on_call
from tests.oncall.factories import daily_layer, person, schedule

pytestmark = pytest.mark.django_db
AT = datetime(2025, 3, 5, 12, tzinfo=UTC)


@pytest.fixture
def people():
    return [person(name) for name in ("alice", "bob", "carol")]


def test_it_answers_who_is_on_call_in_four_queries_however_many_layers(people, django_assert_num_queries):
    layers = [daily_layer(*people, level=level) for level in range(1, 6)]
    primary = schedule(layers=layers)
    with django_assert_num_queries(4):  # members, layers, overrides, the person
        assert who_is_on_call(primary, AT) in people


def test_it_lets_an_override_answer(people):
    alice, bob, carol = people
    override = {"user": carol, "starts_at": AT - timedelta(hours=1), "ends_at": AT + timedelta(hours=1)}
    primary = schedule(layers=[daily_layer(alice, bob, starts_on=date(2025, 3, 1))], overrides=[override])
    assert who_is_on_call(primary, AT) == carol
    assert who_is_on_call(primary, AT + timedelta(hours=2)) in (alice, bob)


def test_it_reads_many_schedules_in_three_queries(people, django_assert_num_queries):
    for n in range(5):
        schedule(name=f"S{n}", layers=[daily_layer(*people), daily_layer(*people, level=2)])
    schedules = list(Schedule.objects.all())
    with django_assert_num_queries(3):
        plans = schedule_plans(schedules, start=AT, end=AT + timedelta(days=14))
    assert all(len(plan.layers) == 2 for plan in plans.values())
