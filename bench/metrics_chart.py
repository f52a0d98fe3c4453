"""Chart benchmark: a 24 h chart of 1-minute buckets (avg, max, p95) of one metric with
1,000,000 raw points in the day (10 sources), read from the minute rollups vs aggregated from
raw points, in ms.

    .venv/bin/python bench/metrics_chart.py [--points 1000000] [--repeat 10]

Target: under 50 ms from rollups (the raw aggregate takes about 400 ms).
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

    def chart(use_rollups: bool):
        return metric_buckets(
            SeriesFilter(name=NAME),
            since=end - timedelta(hours=24),
            until=end,
            interval="1m",
            use_rollups=use_rollups,
        )

    rollup_ms, from_rollups = timed(lambda: chart(True), args.repeat)
    raw_ms, from_raw = timed(lambda: chart(False), max(3, args.repeat // 3))
    assert from_rollups.rollup_buckets == len(from_rollups.buckets) == 1440, from_rollups.rollup_buckets
    assert [b.count for b in from_rollups.buckets] == [b.count for b in from_raw.buckets]
    gaps = [abs(a.p95 - b.p95) / b.p95 for a, b in zip(from_rollups.buckets, from_raw.buckets, strict=True)]
    print(f"raw points: {args.points:,} over 24 h, {SOURCES} sources (COPY load {load_seconds:.1f} s)")
    print(
        f"rollups: {written['minute']:,} minute + {written['hour']:,} hour rows, "
        f"built in {rollup_seconds:.1f} s"
    )
    print("24 h chart, 1-minute buckets (avg, max, p95), median of runs:")
    print(f"  from minute rollups: {rollup_ms:8.1f} ms   (target < 50 ms)")
    print(f"  raw aggregate      : {raw_ms:8.1f} ms")
    print(
        f"  p95 from rollups (count-weighted mean of {SOURCES} per-source p95s) vs exact: "
        f"median {statistics.median(gaps):.1%}, worst {max(gaps):.1%} apart"
    )
    emit(
        "metrics_chart",
        f"24 h chart of 1-min buckets over {args.points:,} points, from rollups",
        rollup_ms,
        "ms",
        target=("<", 50),
        baseline=(raw_ms, "raw aggregate"),
        note=f"median of {args.repeat} runs; p95 from rollups worst {max(gaps):.1%} off exact",
    )
    connection.close()
    if not args.keep:
        drop_database()


if __name__ == "__main__":
    main()
