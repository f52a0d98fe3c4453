"""PostgreSQL: two escalators sweeping at once, then a redelivered task, page each person once."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.db.models import Count

from alerts.models import Alert
from alerts.services import alert_escalate, alert_raise, alerts_escalate_due
from notifications.models import Delivery
from tests.alerts.paging import SUNDAY_3AM_BERLIN, on_call_world
from tests.alerts.test_concurrency import race

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks and SKIP LOCKED need PostgreSQL (service mode)"
    ),
]


def test_two_sweepers_and_a_redelivered_task_page_each_person_once():
    world = on_call_world()
    world["rule"].escalation_policy.steps.get(level=1).users.set([world["bob"], world["carol"]])
    with time_machine.travel(SUNDAY_3AM_BERLIN, tick=False):
        for n in range(30):
            alert_raise(fingerprint=f"db-{n}", title=f"db {n}", severity="critical", rule=world["rule"])
    stale = list(Alert.objects.values_list("pk", "escalation_token"))
    with time_machine.travel(SUNDAY_3AM_BERLIN + timedelta(minutes=1), tick=False):
        race(alerts_escalate_due)
        for pk, token in stale:  # the task each alert was queued with, delivered again
            alert_escalate(alert_id=pk, token=token)
        alerts_escalate_due()
    assert Alert.objects.filter(escalation_level=1).count() == 30
    per_page = Delivery.objects.values("message__thread", "person", "kind").annotate(n=Count("id"))
    assert {row["n"] for row in per_page} == {1}
    # Alice (e-mail now, push later), Bob and Carol (e-mail): four pages for each alert.
    assert len(per_page) == 30 * 4
