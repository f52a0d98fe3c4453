"""Two workers at once on PostgreSQL: a report period is mailed once, a burn alert raised once,
a missed target recorded once."""

import pytest
import time_machine
from django.db import connection

from alerts.models import Alert, AlertEvent
from alerts.services import alert_raise
from notifications.models import Delivery, Message
from reports.models import ReportRun, ResponseBreach
from reports.response_targets import response_targets_check
from reports.services import reports_send_due
from reports.slo import slos_evaluate
from tests.alerts.test_concurrency import race
from tests.reports.conftest import at, set_status
from tests.reports.factories import ObjectiveFactory, ReportFactory, ResponseTargetFactory
from tests.statuspage.factories import ComponentFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks and SKIP LOCKED need PostgreSQL (service mode)"
    ),
]


def test_it_mails_a_period_once_when_two_workers_race():
    component = ComponentFactory(created_at=at("2026-01-01 00:00"))
    for _ in range(5):
        ReportFactory().components.add(component)
    with time_machine.travel(at("2026-03-01 00:05"), tick=False):
        race(reports_send_due, count=3)
    assert ReportRun.objects.count() == 5
    assert Message.objects.filter(kind="report").count() == 5
    assert Delivery.objects.filter(message__kind="report").count() == 10


def test_it_raises_one_burn_alert_when_two_evaluations_race():
    components = [ComponentFactory(created_at=at("2026-01-01 00:00")) for _ in range(4)]
    slos = [ObjectiveFactory(component=c) for c in components]
    for component in components:
        set_status(component, "major_outage", "2026-03-05 10:00")
    with time_machine.travel(at("2026-03-05 10:30"), tick=False):
        race(slos_evaluate, count=3)
    for slo in slos:
        (alert,) = Alert.objects.filter(fingerprint=slo.fingerprint)
        assert AlertEvent.objects.filter(alert=alert, kind=AlertEvent.Kind.FIRED).count() == 1


def test_it_records_a_breach_once_when_two_sweeps_race():
    ResponseTargetFactory(severity="critical", acknowledge_minutes=5)
    for n in range(20):
        alert_raise(fingerprint=f"race:{n}", title="down", severity="critical", now=at("2026-03-05 10:00"))
    with time_machine.travel(at("2026-03-05 11:00"), tick=False):
        race(response_targets_check, count=3)
    assert ResponseBreach.objects.count() == 20
