"""Two posts of the same batch at once on PostgreSQL: each result is stored and counted once."""

import threading

import pytest
from django.db import connection, connections

from healthchecks.agents.models import ProbeLocationState
from healthchecks.agents.services import agent_results_ingest, parse_results
from healthchecks.models import ProbeResult
from tests.healthchecks.agent_helpers import location_with_key, results_in_a_row
from tests.healthchecks.factories import ProbeFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="concurrent writers need PostgreSQL; SQLite serialises them (IMMEDIATE transactions)",
    ),
]


def test_two_concurrent_posts_of_the_same_results_count_once():
    location, _ = location_with_key("Oslo")
    probes = [ProbeFactory(failures_before_down=50) for _ in range(5)]
    for probe in probes:
        probe.locations.add(location)
    batch = parse_results([r for probe in probes for r in results_in_a_row(probe, "failed", 40)])
    barrier = threading.Barrier(2)
    summaries, errors = [], []

    def post():
        try:
            barrier.wait()
            summaries.append(agent_results_ingest(location=location, results=batch))
        except Exception as exc:  # asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(s.accepted for s in summaries) == [0, 200]
    assert sorted(s.duplicates for s in summaries) == [0, 200]
    assert ProbeResult.objects.filter(location=location).count() == 200
    assert {s.consecutive_failures for s in ProbeLocationState.objects.filter(location=location)} == {40}
