"""Agents as separate processes against a live server, probing loopback servers: results
arrive, a killed agent restarts from its queue, and results queued while the server is down
arrive later with their own times, none lost or doubled."""

import pytest
from django.db.models import Count
from django.utils import timezone

from healthchecks.models import ProbeResult
from tests.healthchecks.agent_helpers import location_with_key
from tests.healthchecks.agent_processes import AgentProcess, RestartableServer, wait_for
from tests.healthchecks.factories import ProbeFactory
from tests.healthchecks.servers import ProbeTarget

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server():
    live = RestartableServer().start()
    yield live
    live.stop()


@pytest.fixture
def target():
    loopback = ProbeTarget().start()
    yield loopback
    loopback.stop()


def located_probes(target, location):
    http = ProbeFactory(component__health_check_url=target.url("/ok"))
    tcp = ProbeFactory(component=http.component, kind="tcp", host="127.0.0.1", port=target.port)
    failing = ProbeFactory(component__health_check_url=target.url("/fail"))
    for probe in (http, tcp, failing):
        probe.locations.add(location)
    return http, tcp, failing


def stored(location):
    return ProbeResult.objects.filter(location=location)


def assert_none_doubled(location):
    assert not stored(location).values("result_id").annotate(n=Count("pk")).filter(n__gt=1).exists()
    assert stored(location).filter(result_id__isnull=True).count() == 0


def test_an_agent_runs_its_locations_probes_and_survives_being_killed(server, target, tmp_path):
    location, secret = location_with_key("Oslo")
    http, tcp, failing = located_probes(target, location)
    agent = AgentProcess(server.url, secret, tmp_path / "oslo").start()
    try:
        wait_for(lambda: stored(location).filter(probe=failing).count() >= 2, timeout=60, agent=agent)
    finally:
        assert agent.kill() != 0  # SIGKILL: no clean stop, whatever was queued stays on disk
    assert "registered for location Oslo" in agent.text()
    assert stored(location).filter(probe=http, ok=True).exists()
    assert stored(location).filter(probe=tcp, ok=True).exists()
    assert stored(location).filter(probe=failing, ok=False, error="HTTP 500, expected 200").exists()
    before = stored(location).count()
    again = AgentProcess(server.url, secret, tmp_path / "oslo").start()
    try:
        wait_for(lambda: stored(location).count() >= before + 6, timeout=60, agent=again)
    finally:
        assert again.terminate() == 0  # SIGTERM: a clean stop
    assert "stopped;" in again.text()
    assert_none_doubled(location)


def test_results_queued_while_the_server_is_down_arrive_with_their_times(server, target, tmp_path):
    location, secret = location_with_key("Lima")
    located_probes(target, location)
    agent = AgentProcess(server.url, secret, tmp_path / "lima").start()
    try:
        wait_for(lambda: stored(location).count() >= 3, timeout=60, agent=agent)
        server.stop()
        stopped_at = timezone.now()
        wait_for(lambda: "server unreachable" in agent.text(), timeout=20)
        wait_for(lambda: agent.text().count("server unreachable") >= 3, timeout=20)
        restarted_at = timezone.now()
        server.start()
        wait_for(
            lambda: stored(location).filter(checked_at__gt=restarted_at).exists(), timeout=60, agent=agent
        )
    finally:
        assert agent.terminate() == 0
    # Everything the agent ran is stored once: its final flush sent what was left.
    assert stored(location).count() == agent.probes_run()
    assert_none_doubled(location)
    during = stored(location).filter(checked_at__gt=stopped_at, checked_at__lt=restarted_at)
    assert during.count() >= 3  # made while the server was away, stored with the time they ran
