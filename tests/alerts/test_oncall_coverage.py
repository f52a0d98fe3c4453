"""On-call coverage: the hours in the next 14 days in which an urgent rule's policy reaches nobody,
from the command, the daily job's alert and the API."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from alerts.coverage import ALERT_FINGERPRINT, coverage_alert, coverage_gaps
from alerts.models import Alert
from oncall.models import EscalationPolicy
from oncall.policies import StepSpec, policy_save
from tests.alerts.factories import AlertRuleFactory
from tests.alerts.paging import method, rule_step
from tests.notifications.twilio_fakes import twilio_channel
from tests.oncall.factories import daily_layer, person, schedule

pytestmark = pytest.mark.django_db
# Monday 30 November 2026, 00:00 in Berlin.
MONDAY = datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
FORTNIGHT = 14 * 24
OFFICE_HOURS = 10 * 8  # ten weekdays, 09:00 to 17:00


def office_hours_policy(who, *, severity="critical", name="db down"):
    office = schedule(
        f"{name} office",
        layers=[
            daily_layer(
                who,
                starts_on=date(2026, 11, 1),
                restrict_weekdays=[0, 1, 2, 3, 4],
                restrict_from=time(9),
                restrict_to=time(17),
            )
        ],
    )
    policy = policy_save(
        policy=EscalationPolicy(name=f"{name} policy"),
        steps=[StepSpec(level=1, escalate_after_minutes=5, schedules=[office])],
    )
    AlertRuleFactory(name=name, severity=severity, escalation_policy=policy)
    return policy


def test_it_lists_the_hours_outside_the_only_rotation(db):
    bob = person("bob")
    method(bob, "email", "bob@example.com")
    policy = office_hours_policy(bob)
    [gaps] = coverage_gaps(now=MONDAY + timedelta(minutes=20))
    assert gaps.policy == policy and gaps.rules == ["db down"]
    assert len(gaps.hours) == FORTNIGHT - OFFICE_HOURS
    first, second = gaps.ranges()[:2]
    berlin_9am = MONDAY + timedelta(hours=9)
    assert first == (MONDAY, berlin_9am)  # from the current hour's start
    assert second == (berlin_9am + timedelta(hours=8), berlin_9am + timedelta(hours=24))


def test_an_unverified_or_unsendable_method_reaches_nobody(db):
    carol = person("carol")
    method(carol, "email", "carol@example.com", verified=False)
    sms = method(carol, "sms", "+4915112345678")
    rule_step(carol, sms, 0)
    schedule_ = schedule("always", layers=[daily_layer(carol, starts_on=date(2026, 11, 1))])
    policy = policy_save(
        policy=EscalationPolicy(name="always policy"),
        steps=[StepSpec(level=1, escalate_after_minutes=5, schedules=[schedule_])],
    )
    AlertRuleFactory(name="api down", severity="high", escalation_policy=policy)
    [gaps] = coverage_gaps(now=MONDAY)
    assert len(gaps.hours) == FORTNIGHT  # verified SMS, but no Twilio channel to send it through
    twilio_channel()
    assert coverage_gaps(now=MONDAY) == []


def test_people_named_outright_low_rules_and_disabled_rules_leave_no_gap(db):
    dave = person("dave")
    method(dave, "email", "dave@example.com")
    named = policy_save(
        policy=EscalationPolicy(name="named"),
        steps=[StepSpec(level=1, escalate_after_minutes=5, users=[dave])],
    )
    AlertRuleFactory(name="named rule", severity="critical", escalation_policy=named)
    office_hours_policy(dave, severity="low", name="slow disk")
    quiet = office_hours_policy(dave, name="off")
    quiet.rules.update(enabled=False)
    assert coverage_gaps(now=MONDAY) == []


def test_a_half_hour_with_nobody_reachable_makes_its_hour_a_gap(db):
    erin, frank = person("erin"), person("frank")
    method(erin, "email", "erin@example.com")  # Frank has no verified method
    rota = schedule(
        "rota",
        layers=[daily_layer(erin, starts_on=date(2026, 11, 1))],
        overrides=[
            {
                "user": frank,
                "starts_at": MONDAY + timedelta(hours=30, minutes=15),
                "ends_at": MONDAY + timedelta(hours=30, minutes=45),
            }
        ],
    )
    policy = policy_save(
        policy=EscalationPolicy(name="rota policy"),
        steps=[StepSpec(level=1, escalate_after_minutes=5, schedules=[rota])],
    )
    AlertRuleFactory(name="rota rule", severity="critical", escalation_policy=policy)
    [gaps] = coverage_gaps(now=MONDAY)
    assert gaps.hours == [MONDAY + timedelta(hours=30)]


def test_the_command_lists_the_gaps_and_exits_non_zero(db, capsys):
    bob = person("bob")
    method(bob, "email", "bob@example.com")
    office_hours_policy(bob)
    with pytest.raises(CommandError, match="uncovered hour") as failed:
        call_command("check_oncall")
    assert failed.value.returncode == 1
    out = capsys.readouterr().out
    assert "Policy db down policy (rules: db down)" in out and "UTC" in out


def test_the_command_says_so_when_everything_is_covered(db, capsys):
    call_command("check_oncall")
    assert "reaches someone" in capsys.readouterr().out


def test_the_daily_job_raises_the_coverage_alert_and_resolves_it_once_covered(db):
    bob = person("bob")
    method(bob, "email", "bob@example.com")
    policy = office_hours_policy(bob)
    coverage_alert(now=MONDAY)
    alert = Alert.objects.get(fingerprint=ALERT_FINGERPRINT)
    assert alert.status == "firing" and alert.alert_type == "meta"
    assert f"{FORTNIGHT - OFFICE_HOURS} hour(s)" in alert.title and "db down policy" in alert.message
    policy_save(policy=policy, steps=[StepSpec(level=1, escalate_after_minutes=5, users=[bob])])
    coverage_alert(now=MONDAY)
    alert.refresh_from_db()
    assert alert.status == "resolved"


def test_the_api_answers_the_same(db, api):
    bob = person("bob")
    method(bob, "email", "bob@example.com")
    office_hours_policy(bob)
    body = api.get("/api/operations/oncall/coverage").json()
    assert body["covered"] is False and body["days"] == 14
    [policy] = body["policies"]
    assert policy["rules"] == ["db down"] and policy["uncovered_hours"] >= FORTNIGHT - OFFICE_HOURS - 24
    assert sum(gap["hours"] for gap in policy["gaps"]) == policy["uncovered_hours"]
