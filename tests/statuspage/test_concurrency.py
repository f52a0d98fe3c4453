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


def _weekly_schedule(active: bool = True):
    from datetime import time

    from statuspage.schedules import services as schedules

    return schedules.schedule_create(
        title="Patching",
        rrule="FREQ=WEEKLY",
        start_time=time(2, 0),
        duration=timedelta(hours=2),
        time_zone="Europe/Berlin",
        notify=False,
        active=active,
    )


def test_it_creates_each_occurrence_once_when_the_schedule_job_runs_twice_at_once(settings):
    from statuspage.models import Maintenance, MaintenanceSchedule
    from statuspage.schedules import services as schedules

    schedule = _weekly_schedule(active=False)
    MaintenanceSchedule.objects.filter(pk=schedule.pk).update(active=True)
    assert _race(schedules.schedules_run, runs=2) == []
    starts = list(Maintenance.objects.filter(schedule=schedule).values_list("occurrence_start", flat=True))
    assert len(starts) == len(set(starts)) >= 4


def test_an_insert_racing_an_uncommitted_occurrence_falls_back_to_it():
    import time

    from django.db import transaction

    from statuspage.models import Maintenance
    from statuspage.schedules import services as schedules

    schedule = _weekly_schedule(active=False)
    start = timezone.now() + timedelta(days=3)
    inserted, results = threading.Event(), {}

    def first():
        with transaction.atomic():
            results["first"] = schedules.occurrence_create(schedule=schedule, start=start)
            inserted.set()
            # The second insert does not see this row yet and waits on the unique index.
            time.sleep(0.5)
        close_old_connections()

    def second():
        inserted.wait(5)
        results["second"] = schedules.occurrence_create(schedule=schedule, start=start)
        close_old_connections()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert (results["first"] is not None, results["second"]) == (True, None)
    assert Maintenance.objects.filter(schedule=schedule, occurrence_start=start).count() == 1
