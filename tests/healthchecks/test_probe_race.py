"""Two run_probes at once on PostgreSQL: each due probe runs exactly once."""

import threading

import pytest
from django.db import connection, connections
from django.db.models import Count

from healthchecks.models import ProbeResult
from healthchecks.probes.services import probes_run_due
from tests.healthchecks.factories import ProbeFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SKIP LOCKED claims need PostgreSQL; SQLite serialises writers (IMMEDIATE transactions)",
    ),
]


def test_it_runs_each_due_probe_once_when_two_runs_race(target):
    probes = [ProbeFactory(component__health_check_url=target.url(f"/ok?{n}")) for n in range(60)]
    barrier = threading.Barrier(2)
    claimed, errors = [], []

    def run():
        try:
            barrier.wait()
            claimed.append(probes_run_due(limit=25).claimed)
            claimed.append(probes_run_due(limit=25).claimed)
            claimed.append(probes_run_due(limit=25).claimed)
        except Exception as exc:  # asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(claimed) == 60
    per_probe = ProbeResult.objects.values("probe").annotate(n=Count("pk"))
    assert sorted(row["probe"] for row in per_probe) == sorted(p.pk for p in probes)
    assert {row["n"] for row in per_probe} == {1}
