import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from statuspage import services
from statuspage.models import ComponentStatusChange, MaintenanceUpdate
from tests.statuspage.factories import ComponentFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks and SKIP LOCKED need PostgreSQL; SQLite serialises writers",
    ),
]


def _race(target, runs=4):
    barrier = threading.Barrier(runs)
    errors = []

    def run():
        try:
            barrier.wait()
            target()
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


def test_it_starts_due_maintenance_once_when_the_beat_job_runs_twice_at_once():
    component = ComponentFactory()
    start = timezone.now() - timedelta(minutes=1)
    services.maintenance_schedule(
        title="Patch", scheduled_for=start, scheduled_until=start + timedelta(hours=1), components=[component]
    )
    assert _race(services.maintenance_start_due) == []
    assert MaintenanceUpdate.objects.filter(status="in_progress").count() == 1
    assert ComponentStatusChange.objects.filter(component=component).count() == 1


def test_it_records_one_change_when_two_writers_set_the_same_status():
    component = ComponentFactory()
    assert _race(lambda: services.component_set_status(component=component, status="major_outage")) == []
    assert ComponentStatusChange.objects.filter(component=component).count() == 1


def test_it_rolls_up_uptime_twice_at_once_without_duplicates():
    from statuspage import uptime
    from statuspage.models import ComponentUptimeDay

    component = ComponentFactory(created_at=timezone.now() - timedelta(days=5))
    assert _race(uptime.uptime_rollup) == []
    assert ComponentUptimeDay.objects.filter(component=component).count() == 6


def test_it_counts_every_one_of_several_edits_made_at_once_in_the_sequence():
    start = timezone.now() + timedelta(hours=1)
    maintenance = services.maintenance_schedule(
        title="Patch", scheduled_for=start, scheduled_until=start + timedelta(hours=1), notify=False
    )

    def edit():
        services.maintenance_edit(maintenance=maintenance, title=f"Patch {threading.get_ident()}")

    assert _race(edit) == []
    maintenance.refresh_from_db()
    assert maintenance.sequence == 4
