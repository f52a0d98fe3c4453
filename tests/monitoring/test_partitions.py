"""Daily partitions of raw metric points on PostgreSQL: created ahead, points routed to their day,
strays in the default partition moved, whole days dropped by retention, and two workers at once
creating the same partitions without a clash."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection, connections

from monitoring import retention
from monitoring.models import Metric
from monitoring.partitions import (
    DEFAULT_PARTITION,
    metric_partitions,
    metric_partitions_drop,
    metric_partitions_ensure,
    partition_name,
)
from tests.monitoring.factories import MetricFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="declarative partitions need PostgreSQL (service mode)"
    ),
]
NOW = datetime(2031, 3, 10, 15, 0, tzinfo=UTC)


def home_table(metric: Metric) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM monitoring_metric WHERE id = %s", [metric.pk])
        return cursor.fetchone()[0]


def test_the_table_is_partitioned_by_range_of_timestamp():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'monitoring_metric'::regclass"
        )
        assert cursor.fetchone() == ("r",)
    # The migration made today's partition and the days ahead.
    today = datetime.now(UTC).date()
    assert {today, today + timedelta(days=7)} <= set(metric_partitions())


def test_partitions_are_made_ahead_once_and_points_land_in_their_day(settings):
    settings.METRIC_PARTITIONS_AHEAD_DAYS = 3
    created = metric_partitions_ensure(now=NOW)
    assert created == [partition_name(date(2031, 3, 10) + timedelta(days=n)) for n in range(4)]
    assert metric_partitions_ensure(now=NOW) == []
    inside = MetricFactory(timestamp=datetime(2031, 3, 12, 23, 59, 59, tzinfo=UTC))
    beyond = MetricFactory(timestamp=datetime(2031, 3, 14, 0, 0, tzinfo=UTC))
    assert home_table(inside) == "monitoring_metric_p20310312"
    assert home_table(beyond) == DEFAULT_PARTITION
    # Reads and writes through the ORM do not see the partitions.
    assert Metric.objects.filter(timestamp__gte=datetime(2031, 3, 12, tzinfo=UTC)).count() == 2
    Metric.objects.filter(pk=inside.pk).update(value=42)
    assert Metric.objects.get(pk=inside.pk).value == 42


def test_points_waiting_in_the_default_partition_move_into_their_new_day():
    strays = [MetricFactory(timestamp=datetime(2031, 5, 2, hour, tzinfo=UTC)) for hour in (0, 12, 23)]
    other_day = MetricFactory(timestamp=datetime(2031, 5, 3, 1, tzinfo=UTC))
    assert {home_table(m) for m in strays} == {DEFAULT_PARTITION}
    metric_partitions_ensure(now=datetime(2031, 5, 2, 8, tzinfo=UTC), days_ahead=0)
    assert {home_table(m) for m in strays} == {"monitoring_metric_p20310502"}
    assert home_table(other_day) == DEFAULT_PARTITION
    assert Metric.objects.count() == 4


def test_retention_drops_whole_past_days_and_deletes_only_old_strays(settings):
    metric_partitions_ensure(now=datetime(2031, 1, 1, tzinfo=UTC), days_ahead=4)
    day_points = [MetricFactory(timestamp=datetime(2031, 1, day, 6, tzinfo=UTC)) for day in range(1, 6)]
    old_stray = MetricFactory(timestamp=datetime(2030, 6, 1, tzinfo=UTC))
    recent_stray = MetricFactory(timestamp=datetime(2031, 1, 9, tzinfo=UTC))
    # Cutoff in the middle of Jan 3: Jan 1 and 2 are wholly past it, Jan 3 only partly (as are
    # the partitions the migration made for the real days).
    cutoff = datetime(2031, 1, 3, 12, tzinfo=UTC)
    past = [day for day in metric_partitions() if day < date(2031, 1, 3)]
    dropped, stray_rows = metric_partitions_drop(cutoff=cutoff)
    assert date(2031, 1, 2) in past and (dropped, stray_rows) == (len(past), 1)
    days = set(metric_partitions())
    assert date(2031, 1, 1) not in days and date(2031, 1, 2) not in days and date(2031, 1, 3) in days
    left = set(Metric.objects.values_list("pk", flat=True))
    assert left == {m.pk for m in day_points[2:]} | {recent_stray.pk}
    assert old_stray.pk not in left


def test_the_purge_job_reports_dropped_days(settings):
    settings.METRICS_RETENTION_DAYS = 30
    now = datetime(2031, 8, 31, 12, tzinfo=UTC)
    metric_partitions_ensure(now=now - timedelta(days=35), days_ahead=2)
    MetricFactory(timestamp=now - timedelta(days=34))
    MetricFactory(timestamp=now - timedelta(days=40))
    past = [day for day in metric_partitions() if day < date(2031, 8, 1)]
    purged = retention.metrics_purge(now)
    assert len(past) >= 3 and purged["raw metric day partitions"] == len(past)
    assert purged["raw metric points"] == 1
    assert not Metric.objects.exists()


def test_the_command_says_what_it_made(capsys):
    call_command("partition_metrics", "--days-ahead", "9")
    out = capsys.readouterr().out
    assert "metric partitions created:" in out and "daily partitions" in out
    assert datetime.now(UTC).date() + timedelta(days=9) in metric_partitions()


@pytest.mark.django_db(transaction=True)
def test_two_workers_making_the_same_partitions_at_once_do_not_clash():
    start = datetime(2032, 2, 1, tzinfo=UTC)
    barrier, results, errors = threading.Barrier(2), [], []

    def worker():
        try:
            barrier.wait(5)
            results.append(metric_partitions_ensure(now=start, days_ahead=5))
        except Exception as exc:  # collected for the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(len(created) for created in results) == [0, 6]
    assert {start.date() + timedelta(days=n) for n in range(6)} <= set(metric_partitions())
