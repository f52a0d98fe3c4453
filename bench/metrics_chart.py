"""Chart benchmark: a 24 h chart of 1-minute buckets (avg, max, p50/p90/p95/p99) of one metric
with 1,000,000 raw points in the day (10 sources), read from the rollups vs aggregated from raw
points, in ms; and how far the rollups' percentiles are from the exact ones.

    .venv/bin/python bench/metrics_chart.py [--points 1000000] [--repeat 10]

Targets: the all-sources chart under 50 ms from rollups (the raw aggregate takes about 400 ms);
every percentile of every bucket within 1 % of exact, for all sources (the per-name rollups),
one source, all sources merged from their per-series rows, and 5-minute buckets merged from
1-minute rows. The merged charts' times are shown beside.
"""

import argparse
import random
import statistics
import time
from datetime import timedelta

from _metrics_common import bench_env, create_database, drop_database, setup_django
from _report import emit

NAME = "http.response_time"
SOURCES = 10


def load_points(total: int, end) -> float:
    from django.db import connection

    from monitoring.writer import COPY_COLUMNS

    rng = random.Random(2)
    start = end - timedelta(hours=24)
    step = 86400 / total
    connection.ensure_connection()
    conn = connection.connection
    started = time.perf_counter()
    with (
        conn.cursor() as cursor,
        cursor.copy(f"COPY monitoring_metric ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy,
    ):
        for i in range(total):
            copy.write_row(
                (
                    "performance",
                    "response_time",
                    NAME,
                    rng.lognormvariate(4, 0.6),
                    "ms",
                    f"web-{i % SOURCES}",
                    "",
                    "{}",
                    start + timedelta(seconds=i * step),
                )
            )
    conn.commit()
    with conn.cursor() as cursor:
        cursor.execute("ANALYZE monitoring_metric")
    conn.commit()
    return time.perf_counter() - started


def timed(function, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    env = bench_env()
    create_database(env)
    setup_django(env)
    from django.db import connection
    from django.utils import timezone

    from monitoring.queries import SeriesFilter, floor_time, metric_buckets
    from monitoring.rollups import metrics_rollup_until_current

    end = floor_time(timezone.now(), 60)
    load_seconds = load_points(args.points, end)
    started = time.perf_counter()
    written = metrics_rollup_until_current(now=end)
    rollup_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE monitoring_minuterollup")

    since = end - timedelta(hours=24)

    def chart(series, interval="1m", use_rollups=True):
        return metric_buckets(series, since=since, until=end, interval=interval, use_rollups=use_rollups)

    every_source = SeriesFilter(name=NAME)
    cases = [
        ("all sources, per-name rows", every_source, "1m"),
        ("one source, per-series rows", SeriesFilter(name=NAME, source="web-3"), "1m"),
        (
            "all sources merged from per-series rows",
            SeriesFilter(name=NAME, metric_types=("performance",)),
            "1m",
        ),
        ("all sources, 5-min buckets merged from 1-min rows", every_source, "5m"),
    ]
    rollup_ms, from_rollups = timed(lambda: chart(every_source), args.repeat)
    raw_ms, _ = timed(lambda: chart(every_source, use_rollups=False), max(3, args.repeat // 3))
    assert from_rollups.rollup_buckets == len(from_rollups.buckets) == 1440, from_rollups.rollup_buckets
    print(f"raw points: {args.points:,} over 24 h, {SOURCES} sources (COPY load {load_seconds:.1f} s)")
    print(
        f"rollups: {written['minute']:,} minute + {written['hour']:,} hour rows per series "
        f"(and per name), built in {rollup_seconds:.1f} s"
    )
    print("24 h chart, 1-minute buckets (count, avg, min, max, p50/p90/p95/p99), median of runs:")
    print(f"  from per-name rollups: {rollup_ms:8.1f} ms   (target < 50 ms)")
    print(f"  raw aggregate        : {raw_ms:8.1f} ms")
    print("percentiles from rollups against exact ones over the same points (worst of all buckets):")
    worst_overall = 0.0
    for label, series, interval in cases:
        case_ms, rolled = timed(lambda s=series, i=interval: chart(s, i), max(3, args.repeat // 3))
        exact = chart(series, interval, use_rollups=False)
        assert [b.count for b in rolled.buckets] == [b.count for b in exact.buckets], label
        worst = {}
        for key in ("p50", "p90", "p95", "p99"):
            worst[key] = max(
                abs(getattr(a, key) - getattr(b, key)) / abs(getattr(b, key))
                for a, b in zip(rolled.buckets, exact.buckets, strict=True)
                if getattr(b, key)
            )
        worst_overall = max(worst_overall, *worst.values())
        shown = ", ".join(f"{key} {value:.2%}" for key, value in worst.items())
        print(f"  {label:<52} {case_ms:7.1f} ms   {shown}")
    emit(
        "metrics_chart",
        f"24 h chart of 1-min buckets over {args.points:,} points, from rollups",
        rollup_ms,
        "ms",
        target=("<", 50),
        baseline=(raw_ms, "raw aggregate"),
        note=f"median of {args.repeat} runs; all sources, per-name rollups",
    )
    emit(
        "metrics_chart",
        "worst p50/p90/p95/p99 from rollups against exact",
        worst_overall * 100,
        "%",
        target=("<", 1),
        note="every bucket of all sources, one source, merged series and 5-min merges",
    )
    connection.close()
    if not args.keep:
        drop_database()


if __name__ == "__main__":
    main()
