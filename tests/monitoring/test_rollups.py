import io
import random
import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from monitoring.aggregates import percentile_cont
from monitoring.models import HourNameRollup, HourRollup, MinuteNameRollup, MinuteRollup, RollupCursor
from monitoring.rollups import metrics_rollup, metrics_rollup_until_current
from tests.monitoring.factories import MetricFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def _random_points(hours: float, seed: int = 1) -> list:
    rng = random.Random(seed)
    points = []
    for _ in range(int(hours * 120)):
        points.append(
            MetricFactory(
                timestamp=T0 + timedelta(seconds=rng.uniform(0, hours * 3600)),
                value=round(rng.uniform(0, 100), 3),
                source=rng.choice(["a", "b"]),
                endpoint=rng.choice(["", "api/x"]),
            )
        )
    return points


def _expected(points: list, seconds: int) -> dict:
    groups = defaultdict(list)
    for p in points:
        epoch = int(p.timestamp.timestamp())
        bucket = datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)
        groups[(bucket, p.source, p.endpoint)].append(p.value)
    return groups


@pytest.mark.parametrize("model, seconds", [(MinuteNameRollup, 60), (HourNameRollup, 3600)])
def test_it_keeps_one_row_per_name_and_bucket_merging_every_series(model, seconds):
    points = _random_points(hours=3)
    metrics_rollup_until_current(now=T0 + timedelta(hours=3))
    expected = defaultdict(list)
    for (bucket, _source, _endpoint), values in _expected(points, seconds).items():
        expected[bucket] += values
    rows = {r.bucket_start: r for r in model.objects.all()}
    assert set(rows) == set(expected)
    for bucket, values in expected.items():
        row = rows[bucket]
        assert (row.name, row.count, row.minimum, row.maximum) == (
            "system.cpu_percent",
            len(values),
            min(values),
            max(values),
        )
        assert row.total == pytest.approx(sum(values))
        assert row.p95 == pytest.approx(percentile_cont(values, 0.95), rel=0.005)


@pytest.mark.parametrize("model, seconds", [(MinuteRollup, 60), (HourRollup, 3600)])
def test_it_rolls_up_to_the_same_figures_as_the_raw_points(model, seconds):
    points = _random_points(hours=3)
    metrics_rollup_until_current(now=T0 + timedelta(hours=3))
    expected = _expected(points, seconds)
    rows = {(r.bucket_start, r.source, r.endpoint): r for r in model.objects.all()}
    assert set(rows) == set(expected)
    for key, values in expected.items():
        row = rows[key]
        assert row.count == len(values)
        assert row.total == pytest.approx(sum(values))
        assert (row.minimum, row.maximum) == (min(values), max(values))
        assert row.p95 == pytest.approx(percentile_cont(values, 0.95), rel=0.005)


def test_it_is_idempotent():
    _random_points(hours=1)
    now = T0 + timedelta(hours=2)
    metrics_rollup_until_current(now=now)
    fields = ["bucket_start", "source", "endpoint", "count", "sketch"]
    before = sorted((*row[:-1], bytes(row[-1])) for row in MinuteRollup.objects.values_list(*fields))
    names_before = sorted(MinuteNameRollup.objects.values_list("bucket_start", "count", "total"))
    metrics_rollup(now=now)
    metrics_rollup(now=now)
    assert sorted((*row[:-1], bytes(row[-1])) for row in MinuteRollup.objects.values_list(*fields)) == before
    assert sorted(MinuteNameRollup.objects.values_list("bucket_start", "count", "total")) == names_before


def test_it_counts_late_points_within_the_lookback():
    MetricFactory(timestamp=T0 + timedelta(seconds=5), value=1)
    metrics_rollup_until_current(now=T0 + timedelta(minutes=3))
    MetricFactory(timestamp=T0 + timedelta(seconds=6), value=3)
    metrics_rollup(now=T0 + timedelta(minutes=4))
    row = MinuteRollup.objects.get(bucket_start=T0)
    assert (row.count, row.total) == (2, 4)


def test_it_moves_the_cursor_to_the_last_complete_period():
    MetricFactory(timestamp=T0 + timedelta(seconds=5))
    metrics_rollup_until_current(now=T0 + timedelta(hours=1, minutes=30, seconds=20))
    cursors = dict(RollupCursor.objects.values_list("resolution", "rolled_up_until"))
    assert cursors == {"minute": T0 + timedelta(hours=1, minutes=30), "hour": T0 + timedelta(hours=1)}


def test_it_catches_up_a_long_backlog_in_spans():
    MetricFactory(timestamp=T0)
    MetricFactory(timestamp=T0 + timedelta(hours=20))
    written = metrics_rollup_until_current(now=T0 + timedelta(hours=21))
    assert written["minute"] == 2
    assert MinuteRollup.objects.count() == 2 and HourRollup.objects.count() == 2


def test_it_runs_as_a_management_command():
    MetricFactory(timestamp=timezone.now() - timedelta(minutes=2))
    out = io.StringIO()
    call_command("rollup_metrics", "--catch-up", stdout=out)
    assert "rollups written: 1 minute" in out.getvalue()


def test_it_recomputes_rollups_after_a_backfill():
    MetricFactory(timestamp=timezone.now() - timedelta(hours=5), value=1)
    metrics_rollup_until_current()
    MetricFactory(timestamp=timezone.now() - timedelta(hours=5), value=3)  # backfilled, hours late
    since = (timezone.now() - timedelta(hours=6)).isoformat()
    out = io.StringIO()
    call_command("rollup_metrics", "--since", since, stdout=out)
    assert "rollups written: 1 minute, 1 hour" in out.getvalue()
    assert MinuteRollup.objects.get().count == 2 and HourRollup.objects.get().total == 4


@pytest.mark.django_db(transaction=True)
def test_it_is_safe_to_run_twice_at_once():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL; SQLite serialises them with its file lock")
    points = _random_points(hours=2, seed=3)
    now = T0 + timedelta(hours=2)
    errors = []
    barrier = threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            metrics_rollup_until_current(now=now)
        except Exception as exc:  # pragma: no cover - the assertion shows it
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert MinuteRollup.objects.count() == len(_expected(points, 60))
    assert sum(MinuteRollup.objects.values_list("count", flat=True)) == len(points)
