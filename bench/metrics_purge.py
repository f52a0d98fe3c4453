"""Retention benchmark: purging expired raw points by dropping their day partitions, against the
batched delete it replaced, on the same data in the same run: time and WAL written.

    .venv/bin/python bench/metrics_purge.py [--days 30] [--points-per-day 1000000]

Both ways start from the same load: --days days of --points-per-day points each, COPYed into the
partitioned table (one partition a day), all of them past retention. The WAL figure is the
distance the write-ahead log's insert position moved during the purge (pg_current_wal_lsn).
Target: the partition drop takes a small fraction of the batched delete's time and WAL.
"""

import argparse
import random
import time
from datetime import UTC, datetime, timedelta

from _metrics_common import bench_env, create_database, drop_database, setup_django
from _report import emit

START = datetime(2026, 1, 1, tzinfo=UTC)


def load(days: int, per_day: int) -> float:
    from django.db import connection

    from monitoring.partitions import metric_partitions_ensure
    from monitoring.writer import COPY_COLUMNS

    metric_partitions_ensure(now=START, days_ahead=days - 1)
    rng = random.Random(3)
    step = 86400 / per_day
    connection.ensure_connection()
    conn = connection.connection
    started = time.perf_counter()
    for day in range(days):
        base = START + timedelta(days=day)
        with (
            conn.cursor() as cursor,
            cursor.copy(f"COPY monitoring_metric ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy,
        ):
            for i in range(per_day):
                copy.write_row(
                    (
                        "performance",
                        "response_time",
                        "http.response_time",
                        rng.lognormvariate(4, 0.6),
                        "ms",
                        f"web-{i % 10}",
                        "",
                        "{}",
                        base + timedelta(seconds=i * step),
                    )
                )
        conn.commit()
        print(f"  loaded day {day + 1}/{days}", flush=True)
    with conn.cursor() as cursor:
        cursor.execute("CHECKPOINT")
        cursor.execute("ANALYZE monitoring_metric")
    conn.commit()
    return time.perf_counter() - started


def wal_position() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()")
        return cursor.fetchone()[0]


def wal_since(position: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s)", [position])
        return int(cursor.fetchone()[0])


def measured(purge) -> tuple[float, int, object]:
    position = wal_position()
    started = time.perf_counter()
    result = purge()
    return time.perf_counter() - started, wal_since(position), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--points-per-day", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    env = bench_env()
    create_database(env)
    setup_django(env)
    from django.db import connection

    from core.batches import delete_in_batches
    from monitoring.models import Metric
    from monitoring.partitions import metric_partitions_drop

    total = args.days * args.points_per_day
    cutoff = START + timedelta(days=args.days)
    print(f"loading {total:,} points ({args.days} days of {args.points_per_day:,})", flush=True)
    load_seconds = load(args.days, args.points_per_day)
    delete_seconds, delete_wal, deleted = measured(
        lambda: delete_in_batches(Metric.objects.filter(timestamp__lt=cutoff))
    )
    assert deleted == total, (deleted, total)
    print("reloading for the partition drop", flush=True)
    load(args.days, args.points_per_day)
    drop_seconds, drop_wal, (dropped, strays) = measured(lambda: metric_partitions_drop(cutoff=cutoff))
    assert dropped >= args.days and strays == 0 and not Metric.objects.exists(), (dropped, strays)
    print(f"points: {total:,} over {args.days} days (each load {load_seconds:.0f} s)")
    print(
        f"batched delete (10,000 a transaction): {delete_seconds:8.2f} s, WAL {delete_wal / 2**20:9.1f} MiB"
    )
    print(f"drop of {dropped} day partitions      : {drop_seconds:8.2f} s, WAL {drop_wal / 2**20:9.1f} MiB")
    emit(
        "metrics_purge",
        f"purge of {args.days} days x {args.points_per_day:,} points: time, partition drop",
        drop_seconds,
        "s",
        baseline=(delete_seconds, "batched delete"),
        ratio_target=("<", 0.05),
        note=f"WAL: {drop_wal / 2**20:.1f} MiB against {delete_wal / 2**20:.1f} MiB",
    )
    emit(
        "metrics_purge",
        f"purge of {args.days} days x {args.points_per_day:,} points: WAL, partition drop",
        drop_wal / 2**20,
        "MiB",
        baseline=(delete_wal / 2**20, "batched delete"),
        ratio_target=("<", 0.01),
    )
    connection.close()
    if not args.keep:
        drop_database()


if __name__ == "__main__":
    main()
