"""Several probes per component: the migration keeps every existing probe, as an http probe."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("healthchecks", "0003_heartbeat_checks")]


@pytest.mark.django_db(transaction=True)
def test_it_keeps_every_probe_and_its_settings_as_an_http_probe():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    component = old.get_model("statuspage", "Component").objects.create(
        name="API", health_check_url="http://127.0.0.1:9/ok"
    )
    old.get_model("healthchecks", "Probe").objects.create(
        component_id=component.pk, failures_before_down=5, consecutive_failures=2
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    from healthchecks.models import Probe

    probe = Probe.objects.get()
    assert (probe.component_id, probe.kind, probe.failures_before_down) == (component.pk, "http", 5)
    assert (probe.consecutive_failures, probe.verdict) == (2, "")
