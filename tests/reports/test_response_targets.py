"""Response targets per severity against each alert's timeline, in business hours across a
weekend, each breach recorded once and reported."""

from datetime import timedelta

import pytest

from alerts.services import alert_acknowledge, alert_raise, alert_resolve
from reports.business_hours import business_seconds, deadline
from reports.models import ResponseBreach
from reports.response_targets import response_targets_check
from tests.reports.conftest import at
from tests.reports.factories import BusinessCalendarFactory, ResponseTargetFactory

pytestmark = pytest.mark.django_db


def _raise(when: str, severity: str = "critical"):
    return alert_raise(fingerprint=f"test:{when}", title="db down", severity=severity, now=at(when)).alert


def test_it_counts_business_hours_across_a_weekend():
    office = BusinessCalendarFactory.build(time_zone="Europe/Berlin")
    # Friday 16:00 in Berlin (15:00 UTC in winter): one hour left on Friday, the rest on Monday.
    friday = at("2026-02-06 15:00")
    assert deadline(friday, 3 * 3600, office) == at("2026-02-09 10:00")
    assert business_seconds(friday, at("2026-02-09 10:00"), office) == 3 * 3600


def test_it_keeps_the_calendars_hours_across_a_change_to_summer_time():
    office = BusinessCalendarFactory.build(time_zone="Europe/Berlin")
    # Friday 27 March 2026 16:00 CET; Berlin moves to CEST on Sunday the 29th: Monday 9:00 is 07:00 UTC.
    assert deadline(at("2026-03-27 15:00"), 2 * 3600, office) == at("2026-03-30 08:00")


def test_it_records_a_missed_acknowledgement_in_business_hours_once(clock):
    ResponseTargetFactory(
        severity="critical",
        acknowledge_minutes=120,
        resolve_minutes=None,
        calendar=BusinessCalendarFactory(time_zone="Europe/Berlin"),
    )
    alert = _raise("2026-02-06 15:00")  # Friday 16:00 in Berlin
    clock.move_to("2026-02-08 23:00")  # Sunday night: one business hour has passed
    response_targets_check()
    assert not ResponseBreach.objects.exists()
    clock.move_to("2026-02-09 09:01")  # Monday 10:01 in Berlin: 2 h 1 min of business time
    response_targets_check()
    response_targets_check()
    breach = ResponseBreach.objects.get()
    assert (breach.alert, breach.kind, breach.due_at) == (alert, "acknowledge", at("2026-02-09 09:00"))
    assert breach.answered_at is None


def test_it_leaves_an_alert_acknowledged_in_time_alone(clock):
    ResponseTargetFactory(severity="critical", acknowledge_minutes=15, resolve_minutes=60)
    alert = _raise("2026-02-06 15:00")
    alert_acknowledge(alert=alert, now=at("2026-02-06 15:10"))
    alert_resolve(alert=alert, now=at("2026-02-06 15:50"))
    clock.move_to("2026-02-07 00:00")
    response_targets_check()
    assert not ResponseBreach.objects.exists()


def test_it_records_a_late_resolution_with_the_time_it_came(clock):
    ResponseTargetFactory(severity="high", acknowledge_minutes=None, resolve_minutes=60)
    alert = _raise("2026-02-06 15:00", severity="high")
    alert_resolve(alert=alert, now=at("2026-02-06 17:00"))
    clock.move_to("2026-02-06 18:00")
    response_targets_check()
    breach = ResponseBreach.objects.get()
    assert breach.kind == "resolve" and breach.answered_at == at("2026-02-06 17:00")
    assert breach.due_at - alert.fired_at == timedelta(hours=1)


def test_it_lists_breaches_in_the_api(api, clock):
    ResponseTargetFactory(severity="critical", acknowledge_minutes=15)
    alert = _raise("2026-02-06 15:00")
    clock.move_to("2026-02-06 16:00")
    response_targets_check()
    body = api.get("/api/operations/response-breaches").json()
    assert [(b["alert"], b["kind"]) for b in body["results"]] == [(alert.pk, "acknowledge")]
