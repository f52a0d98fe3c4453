"""Benchmark: one alert-evaluation tick with 1,000 enabled rules over 5,000,000 metric rows.

Runs on PostgreSQL (a throw-away database, default vigil_bench_alerts). Loads the rows with
COPY, creates the rules (50 metric names, 20 rules each, mixed aggregations and windows),
then times a cold tick (state changes: rules go pending / fire) and a steady tick, and
prints the query count of each, beside the same tick with 100 rules to show the count does
not grow with the rules. Targets: a first tick under 500 ms and a steady tick under 400 ms.

    .venv/bin/python bench/alerts_evaluate.py [--rows 5000000] [--rules 1000]
"""

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from _report import emit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BASE = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
NAME = os.environ.get("BENCH_DATABASE", "vigil_bench_alerts")


def prepare_database() -> None:
    with psycopg.connect(f"{BASE}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {NAME}")
        conn.execute(f"CREATE DATABASE {NAME}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--profile", action="store_true", help="print a profile of one more steady tick")
    args = parser.parse_args()
    prepare_database()
    os.environ.update(DATABASE_URL=f"{BASE}/{NAME}", DEBUG="0", SECRET_KEY="bench-" * 10, ALLOWED_HOSTS="x")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from alerts.evaluation import evaluate_rules
    from alerts.models import AlertRule
    from monitoring.models import Metric

    call_command("migrate", verbosity=0)
    names = [f"bench.metric.{i}" for i in range(50)]
    now = datetime.now(UTC).replace(microsecond=0)
    span = timedelta(days=2)
    step = span / (args.rows / len(names))
    print(f"loading {args.rows:,} metric rows over {span} ({len(names)} metric names) ...", flush=True)
    started = time.perf_counter()
    table = Metric._meta.db_table
    with connection.cursor() as cursor:
        columns = "metric_type, category, name, value, unit, source, endpoint, tags, timestamp"
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            per_name = args.rows // len(names)
            for i in range(per_name):
                moment = now - span + step * i
                for n, name in enumerate(names):
                    copy.write_row(
                        (
                            "system",
                            "cpu_usage",
                            name,
                            (i * 7 + n) % 100,
                            "%",
                            f"host{n % 5}",
                            "",
                            "{}",
                            moment,
                        )
                    )
        cursor.execute(f"ANALYZE {table}")
    print(f"  loaded in {time.perf_counter() - started:.1f} s", flush=True)

    def make_rules(count: int) -> None:
        AlertRule.objects.all().delete()
        aggregations = ["avg", "max", "p95", "min", "last", "count"]
        AlertRule.objects.bulk_create(
            AlertRule(
                name=f"rule {i}",
                metric_name=names[i % len(names)],
                aggregation=aggregations[i % len(aggregations)],
                window_minutes=[1, 5, 15][i % 3],
                operator=">",
                threshold=50 + (i % 50),
                duration_minutes=i % 3,
                severity="high",
            )
            for i in range(count)
        )

    def tick(label: str) -> tuple[float, int]:
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            summary = evaluate_rules(now=now)  # the data ends at `now`, however long loading took
            elapsed = time.perf_counter() - started
        print(f"  {label}: {elapsed * 1000:7.1f} ms, {len(queries):4d} queries — {summary}")
        return elapsed, len(queries)

    results, cold = {}, {}
    for count in (100, args.rules):
        make_rules(count)
        print(f"{count} rules:")
        cold[count] = tick("cold tick (state changes)")
        tick("second tick")
        results[count] = tick("steady tick")
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(evaluate_rules)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    steady, queries = results[args.rules]
    print()
    print(
        f"RESULT rules={args.rules} rows={args.rows:,} steady_tick_ms={steady * 1000:.1f} queries={queries} "
        f"queries_with_100_rules={results[100][1]} target_ms=400 {'OK' if steady < 0.4 else 'MISSED'}"
    )
    emit(
        "alerts_evaluate",
        f"alert evaluation, steady tick, {args.rules:,} rules over {args.rows:,} rows",
        steady * 1000,
        "ms",
        target=("<", 400),
        baseline=(results[100][0] * 1000, "the same tick with 100 rules"),
    )
    emit(
        "alerts_evaluate",
        f"alert evaluation, first tick (rules go pending, some fire), {args.rules:,} rules",
        cold[args.rules][0] * 1000,
        "ms",
        target=("<", 500),
        baseline=(cold[100][0] * 1000, "the same tick with 100 rules"),
    )
    emit(
        "alerts_evaluate",
        f"alert evaluation, queries per tick, {args.rules:,} rules",
        queries,
        "queries",
        baseline=(results[100][1], "queries with 100 rules"),
        ratio_target=("<=", 1.0),  # the count must not grow with the rules
    )
    connection.close()
    with psycopg.connect(f"{BASE}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {NAME}")


if __name__ == "__main__":
    main()
