"""The issue's "done when": a component whose server starts failing turns major_outage after the
configured failures, raises one alert, shows on the status page and in its uptime, and returns to
operational when the server recovers."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from alerts.models import Alert
from healthchecks.models import Probe
from healthchecks.probes.services import probes_run_due
from tests.healthchecks.factories import ProbeFactory

pytestmark = pytest.mark.django_db


def tick(rounds: int = 1) -> None:
    for _ in range(rounds):
        Probe.objects.update(next_due_at=timezone.now())
        probes_run_due()


def public_status(client, component_id: int) -> str:
    components = client.get("/api/status").json()["components"]
    return next(c["status"] for c in components if c["id"] == str(component_id))


def test_it_takes_a_failing_component_down_and_back_up_on_the_status_page(
    target, client, django_capture_on_commit_callbacks
):
    probe = ProbeFactory(component__name="Checkout", component__health_check_url=target.url("/ok"))
    start = timezone.now().replace(hour=12, minute=0)  # mid-day: the outage stays within one UTC day
    with time_machine.travel(start, tick=True), django_capture_on_commit_callbacks(execute=True):
        tick()
        assert public_status(client, probe.component_id) == "operational"
        target.overrides["/ok"] = 502
        tick(3)
    assert public_status(client, probe.component_id) == "major_outage"
    assert Alert.objects.open().count() == 1

    with time_machine.travel(start + timedelta(minutes=10), tick=True):
        del target.overrides["/ok"]
        with django_capture_on_commit_callbacks(execute=True):
            tick(2)
        assert public_status(client, probe.component_id) == "operational"
        today = client.get(f"/api/status/components/{probe.component_id}/uptime?days=1").json()["daily"][-1]
    assert 9 * 60 <= today["major_outage_seconds"] <= 11 * 60
    assert today["uptime_percentage"] < 100
    assert Alert.objects.get().status == Alert.Status.RESOLVED
