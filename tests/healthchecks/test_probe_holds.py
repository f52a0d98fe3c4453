"""A timed hold set through one of a component's probes holds the whole component: its other
probes and its heartbeat checks yield to it until it ends, and the first result after that
hands the component back."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from healthchecks.models import Probe
from healthchecks.pings.models import Ping
from healthchecks.pings.services import check_create, check_ping
from healthchecks.probes.services import probe_hold
from statuspage.models import ComponentStatus
from tests.healthchecks.test_probe_kinds import closed_port, probe_of, tick  # noqa: F401  (a fixture)
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(target, closed_port):  # noqa: F811
    """A component held operational for an hour through its HTTP probe, whose TCP probe fails."""
    component = ComponentFactory(health_check_url=target.url("/ok"))
    http = probe_of(Probe.Kind.HTTP, component=component)
    probe_of(Probe.Kind.TCP, component=component, host="127.0.0.1", port=closed_port)
    probe_hold(probe=http, until=timezone.now() + timedelta(hours=1), status=ComponentStatus.OPERATIONAL)
    return component


def status_of(component) -> str:
    component.refresh_from_db()
    return component.status


def test_a_hold_set_through_one_probe_holds_the_component_against_another(held):
    tick()
    assert status_of(held) == ComponentStatus.OPERATIONAL


def test_the_component_follows_its_probes_again_once_the_hold_ends(held):
    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1)):
        tick()
    assert status_of(held) == ComponentStatus.MAJOR_OUTAGE
    assert not Probe.objects.filter(component=held, manual_hold_until__isnull=False).exists()


def test_a_heartbeat_check_yields_to_the_hold(held):
    check_ping(check=check_create(name="queue consumer", component=held), kind=Ping.Kind.FAIL)
    assert status_of(held) == ComponentStatus.OPERATIONAL
