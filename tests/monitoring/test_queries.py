from datetime import UTC, datetime, timedelta

import pytest

from monitoring.models import MetricType
from monitoring.queries import SHAPES_PER_QUERY, Selector, SeriesFilter, metric_buckets, window_aggregates
from monitoring.rollups import metrics_rollup_until_current
from tests.monitoring.factories import MetricFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def make(values_at: list[tuple[float, float]], **fields) -> None:
    for seconds, value in values_at:
        MetricFactory(timestamp=at(seconds), value=value, **fields)


def test_it_computes_one_minute_buckets_by_hand():
    make([(0, 1), (10, 2), (20, 3), (30, 4), (59.9, 10), (61, 7)])
    result = metric_buckets(
        SeriesFilter(name="system.cpu_percent"), since=T0, until=at(120), interval="1m", use_rollups=False
    )
    first, second = result.buckets
    # p95 of 1,2,3,4,10: rank 0.95 * 4 = 3.8 -> 4 + 0.8 * (10 - 4) = 8.8
    assert (first.start, first.count, first.avg, first.min, first.max) == (T0, 5, 4.0, 1, 10)
    assert first.p95 == pytest.approx(8.8)
    assert (second.start, second.count, second.avg, second.p95) == (at(60), 1, 7.0, 7.0)


def test_it_aligns_five_minute_and_hour_buckets_to_utc_boundaries():
    make([(0, 1), (299, 3), (300, 10), (3599, 20), (3600, 30)])
    five = metric_buckets(SeriesFilter(), since=at(120), until=at(3700), interval="5m", use_rollups=False)
    assert [(b.start, b.count) for b in five.buckets] == [(T0, 2), (at(300), 1), (at(3300), 1), (at(3600), 1)]
    hour = metric_buckets(SeriesFilter(), since=at(10), until=at(3601), interval="1h", use_rollups=False)
    assert [(b.start, b.count, b.avg) for b in hour.buckets] == [(T0, 4, 8.5), (at(3600), 1, 30.0)]


def test_it_reads_rollups_before_the_cursor_and_raw_points_after_it():
    make([(s, s % 17) for s in range(0, 600, 7)])
    metrics_rollup_until_current(now=at(300))  # minutes 0-4 rolled up
    make([(s + 0.5, 99) for s in range(0, 600, 60)])  # late points the rollups do not know yet
    mixed = metric_buckets(SeriesFilter(name="system.cpu_percent"), since=T0, until=at(600), interval="1m")
    assert (mixed.rollup_buckets, mixed.raw_buckets) == (5, 5)
    raw = metric_buckets(
        SeriesFilter(name="system.cpu_percent"), since=T0, until=at(600), interval="1m", use_rollups=False
    )
    # Minutes 5-9 come from raw points, so they include the late points; 0-4 are the rollups'.
    assert [b.count for b in mixed.buckets[5:]] == [b.count for b in raw.buckets[5:]]
    assert [b.count + 1 for b in mixed.buckets[:5]] == [b.count for b in raw.buckets[:5]]


def test_it_filters_buckets_by_tag_from_raw_points():
    make([(0, 1), (1, 2)], tags={"env": "prod"})
    make([(2, 100)], tags={"env": "test"})
    metrics_rollup_until_current(now=at(600))
    result = metric_buckets(SeriesFilter(tag=("env", "prod")), since=T0, until=at(60), interval="1m")
    assert result.rollup_buckets == 0
    assert [(b.count, b.max) for b in result.buckets] == [(2, 2)]


def test_it_aggregates_every_selector_of_every_metric_in_one_query(django_assert_num_queries):
    now = at(600)
    make([(300, 10), (400, 20), (500, 30), (590, 40)], source="a")
    make([(595, 1000)], source="b")
    make([(100, 5)], source="a")  # outside the 5-minute windows
    MetricFactory(name="system.memory_percent", timestamp=at(590), value=70)
    five_a = Selector(name="system.cpu_percent", window=timedelta(minutes=5), source="a")
    ten_all = Selector(name="system.cpu_percent", window=timedelta(minutes=10))
    memory = Selector(name="system.memory_percent", window=timedelta(minutes=1))
    empty = Selector(name="system.cpu_percent", window=timedelta(minutes=5), source="nowhere")
    with django_assert_num_queries(1):
        results = window_aggregates([five_a, ten_all, memory, empty], now=now)
    a = results[five_a]
    assert (a.count, a.avg, a.min, a.max, a.last) == (4, 25.0, 10, 40, 40)
    assert a.p95 == pytest.approx(38.5)  # rank 2.85 -> 30 + 0.85 * 10
    assert (results[ten_all].count, results[ten_all].max, results[ten_all].last) == (6, 1000, 1000)
    assert results[memory].get("last") == 70
    assert (results[empty].count, results[empty].avg, results[empty].p95) == (0, None, None)


def test_it_splits_many_window_shapes_over_queries_and_keeps_each_answer_apart(django_assert_num_queries):
    now = at(3600)
    for minute in range(60):
        make([(minute * 60, minute)], source="a")
        make([(minute * 60 + 30, 100 + minute)], source="b")
        MetricFactory(name="system.memory_percent", timestamp=at(minute * 60), value=1000 + minute)
    windows = range(1, SHAPES_PER_QUERY + 4)  # more shapes than one query takes
    selectors = [
        Selector(name=name, window=timedelta(minutes=m), source=source)
        for m in windows
        for name, source in (
            ("system.cpu_percent", "a"),
            ("system.cpu_percent", "b"),
            ("system.memory_percent", ""),
        )
    ]
    shapes = 3 * len(windows)  # every selector differs from the others in window or source
    with django_assert_num_queries(-(-shapes // SHAPES_PER_QUERY)):
        results = window_aggregates(selectors, now=now)
    for m in windows:
        # (now - m minutes, now]: the points of the last m minutes, the one at the boundary too.
        a = results[Selector(name="system.cpu_percent", window=timedelta(minutes=m), source="a")]
        b = results[Selector(name="system.cpu_percent", window=timedelta(minutes=m), source="b")]
        memory = results[Selector(name="system.memory_percent", window=timedelta(minutes=m))]
        assert (a.count, a.min, a.last) == (m, 60 - m, 59)
        assert (b.count, b.min, b.last) == (m, 160 - m, 159)
        assert (memory.count, memory.min, memory.max) == (m, 1060 - m, 1059)


def test_it_matches_tags_as_keys_even_when_a_key_looks_like_a_lookup():
    make([(0, 5)], tags={"contains": "x", "region": "eu"})
    make([(1, 7)], tags={"region": "us"})
    selector = Selector(
        name="system.cpu_percent", window=timedelta(hours=1), tags=(("contains", "x"), ("region", "eu"))
    )
    result = window_aggregates([selector], now=at(60))[selector]
    assert (result.count, result.last) == (1, 5)


def test_it_restricts_buckets_to_the_given_types():
    make([(0, 1)], metric_type=MetricType.SYSTEM)
    make([(1, 50)], metric_type=MetricType.BUSINESS)
    result = metric_buckets(
        SeriesFilter(metric_types=(MetricType.BUSINESS,)), since=T0, until=at(60), interval="1m"
    )
    assert [(b.count, b.avg) for b in result.buckets] == [(1, 50)]


def test_it_refuses_too_many_buckets():
    with pytest.raises(ValueError, match="at most"):
        metric_buckets(SeriesFilter(), since=T0 - timedelta(days=30), until=T0, interval="1m")


def _percentiles(bucket) -> list:
    return [bucket.p50, bucket.p90, bucket.p95, bucket.p99]


@pytest.mark.parametrize("series", [SeriesFilter(), SeriesFilter(metric_types=(MetricType.SYSTEM,))])
def test_it_merges_rollup_rows_into_percentiles_of_all_their_points(series):
    make([(0, 1), (1, 2), (2, 3), (3, 4), (4, 10)], source="a")  # alone: p95 8.8
    make([(5, 100), (6, 200)], source="b")  # alone: p95 195
    metrics_rollup_until_current(now=at(120))
    (bucket,) = metric_buckets(series, since=T0, until=at(60), interval="1m").buckets
    assert (bucket.count, bucket.avg, bucket.min, bucket.max) == (7, 320 / 7, 1, 200)
    # All seven points together: p50 4, p90 100 + 0.4 * 100, p95 100 + 0.7 * 100, p99 100 + 0.94 * 100.
    assert _percentiles(bucket) == pytest.approx([4, 140, 170, 194], rel=0.005)


def test_it_reads_one_source_from_its_own_rollup_rows():
    make([(0, 1), (1, 2), (2, 3), (3, 4), (4, 10)], source="a")
    make([(5, 100), (6, 200)], source="b")
    metrics_rollup_until_current(now=at(120))
    result = metric_buckets(SeriesFilter(source="a"), since=T0, until=at(60), interval="1m")
    (bucket,) = result.buckets
    assert (result.rollup_buckets, bucket.count, bucket.max) == (1, 5, 10)
    assert bucket.p95 == pytest.approx(8.8, rel=0.005)


@pytest.mark.parametrize("interval", ["5m", "1d"])
def test_it_merges_rollups_into_wider_buckets_exactly_and_percentiles_within_half_a_percent(interval):
    make([(s * 37, (s * 13) % 50) for s in range(300)])  # about three hours
    window = {"since": T0, "until": at(4 * 3600), "interval": interval}
    raw = metric_buckets(SeriesFilter(), use_rollups=False, **window).buckets
    metrics_rollup_until_current(now=at(86400))  # the next day: the day bucket is complete too
    rolled = metric_buckets(SeriesFilter(), **window)
    assert rolled.raw_buckets == 0
    assert [(b.start, b.count, b.min, b.max) for b in rolled.buckets] == [
        (b.start, b.count, b.min, b.max) for b in raw
    ]
    assert [b.avg for b in rolled.buckets] == pytest.approx([b.avg for b in raw])
    for rolled_bucket, raw_bucket in zip(rolled.buckets, raw, strict=True):
        assert _percentiles(rolled_bucket) == pytest.approx(_percentiles(raw_bucket), rel=0.005)
