"""Benchmark: building the operations dashboard (config/dashboard.py) with a busy installation.

PostgreSQL, a throw-away database (default vigil_bench_console): 2,000 open alerts, 50 open
incidents, 30 maintenance windows, 2,000 failed deliveries, and 24 h of metrics at one point
per minute for CPU, memory and 20 request-timing series (~31,700 rows), rolled up the way beat
does. Times dashboard_data() (the API's body; the admin page adds the template) cold and warm
and prints its query count beside the count with 10 alerts, to show it does not grow.
Target: a warm build well under 250 ms.

    .venv/bin/python bench/console_dashboard.py [--alerts 2000]
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from _report import emit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BASE = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
NAME = os.environ.get("BENCH_DATABASE", "vigil_bench_console")


def prepare_database() -> None:
    with psycopg.connect(f"{BASE}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {NAME}")
        conn.execute(f"CREATE DATABASE {NAME}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    prepare_database()
    os.environ.update(DATABASE_URL=f"{BASE}/{NAME}", DEBUG="0", SECRET_KEY="bench-" * 10, ALLOWED_HOSTS="x")
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from alerts.models import Alert
    from config.dashboard import dashboard_data
    from monitoring.models import Metric
    from monitoring.rollups import metrics_rollup_until_current
    from notifications.models import Delivery, Message
    from statuspage import services
    from statuspage.models import Component, Maintenance

    call_command("migrate", verbosity=0)
    now = datetime.now(UTC).replace(second=0, microsecond=0)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            dashboard_data()
        return len(queries)

    rows = []
    for minute in range(24 * 60):
        at = now - timedelta(minutes=minute)
        rows.append(Metric(name="system.cpu_percent", metric_type="system", value=minute % 90, timestamp=at))
        rows.append(Metric(name="system.memory_percent", metric_type="system", value=60, timestamp=at))
        for endpoint in range(20):
            rows.append(
                Metric(
                    name="http.server.duration",
                    metric_type="performance",
                    category="response_time",
                    value=50 + endpoint,
                    endpoint=f"api/{endpoint}",
                    tags={"count": 100, "errors": endpoint % 3},
                    timestamp=at,
                )
            )
    Metric.objects.bulk_create(rows, batch_size=5000)
    metrics_rollup_until_current()
    print(f"  {Metric.objects.count():,} metric rows", flush=True)
    Alert.objects.bulk_create(
        Alert(
            title=f"alert {i}",
            fingerprint=f"bench:{i}",
            severity=["critical", "high", "medium", "low"][i % 4],
        )
        for i in range(10)
    )
    first = Component.objects.create(name="First", position=99)
    services.incident_create(title="First incident", message="x", components={first: "degraded_performance"})
    Maintenance.objects.create(
        title="First", scheduled_for=now + timedelta(hours=1), scheduled_until=now + timedelta(hours=2)
    )
    message = Message.objects.create(kind="bench", subject="first", dedup_key="first")
    Delivery.objects.create(
        message=message,
        kind="email",
        recipient="a@example.com",
        idempotency_key="first",
        status="failed",
        give_up_at=now,
    )
    few = count_queries()
    few_timings = []
    for _ in range(max(3, args.runs // 4)):
        started = time.perf_counter()
        dashboard_data()
        few_timings.append(time.perf_counter() - started)
    few_ms = statistics.median(few_timings) * 1000
    print(f"loading {args.alerts:,} alerts, incidents, maintenance, deliveries ...", flush=True)
    Alert.objects.bulk_create(
        Alert(
            title=f"alert {i}",
            fingerprint=f"bench:{i}",
            severity=["critical", "high", "medium", "low"][i % 4],
            status="acknowledged" if i % 3 == 0 else "firing",
        )
        for i in range(10, args.alerts)
    )
    components = Component.objects.bulk_create(
        Component(name=f"Component {i}", position=i) for i in range(40)
    )
    for i in range(50):
        services.incident_create(
            title=f"Incident {i}", message="Investigating", components={components[i % 40]: "partial_outage"}
        )
    Maintenance.objects.bulk_create(
        Maintenance(
            title=f"Maintenance {i}",
            scheduled_for=now + timedelta(days=1, hours=i),
            scheduled_until=now + timedelta(days=1, hours=i + 1),
        )
        for i in range(30)
    )
    messages = Message.objects.bulk_create(
        Message(kind="bench", subject=f"m{i}", dedup_key=f"m{i}") for i in range(20)
    )
    Delivery.objects.bulk_create(
        Delivery(
            message=messages[i % 20],
            kind="email",
            recipient=f"r{i}@example.com",
            idempotency_key=f"bench-{i}",
            status="failed",
            last_error="550",
            give_up_at=now,
        )
        for i in range(2000)
    )

    started = time.perf_counter()
    dashboard_data()
    cold = time.perf_counter() - started
    timings = []
    for _ in range(args.runs):
        started = time.perf_counter()
        dashboard_data()
        timings.append(time.perf_counter() - started)
    many = count_queries()
    print(
        f"dashboard_data: cold {cold * 1000:.0f} ms, warm median {statistics.median(timings) * 1000:.0f} ms, "
        f"max {max(timings) * 1000:.0f} ms over {args.runs} runs"
    )
    print(f"with 10 alerts and one of everything else: warm median {few_ms:.0f} ms")
    print(f"queries: {few} with 10 alerts and one of everything else,")
    print(
        f"         {many} with {args.alerts:,} alerts, 50 incidents, 30 maintenance, 2,000 failed deliveries"
    )
    emit(
        "console_dashboard",
        f"dashboard build, warm, {args.alerts:,} open alerts",
        statistics.median(timings) * 1000,
        "ms",
        target=("<", 250),
        baseline=(few_ms, "the same with 10 alerts"),
        note=f"cold {cold * 1000:.0f} ms",
    )
    emit(
        "console_dashboard",
        f"dashboard queries, {args.alerts:,} open alerts",
        many,
        "queries",
        baseline=(few, "queries with 10 alerts"),
        ratio_target=("<=", 1.0),  # bounded: does not grow with the alerts
    )


if __name__ == "__main__":
    main()
