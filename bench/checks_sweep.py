"""Benchmark: the heartbeat-check sweep over 100,000 checks, and ping intake in one process.

Runs on PostgreSQL (a throw-away database, default vigil_bench_checks). Creates the checks with
bulk inserts, 1 % of them overdue, then times:
- a sweep that marks the overdue 1 % late, beside the same sweep over a tenth of the checks: its
  queries and time must not grow with the checks (target: under 1 s, the same query count);
- a sweep with nothing due (the steady state of a healthy installation);
- a sweep that takes 100 checks down, per check (each is one alert through the alert services);
- ping intake through the WSGI handler in-process (no sockets): pings/s over 10,000 distinct
  checks and all on one check, beside a bare Django view through the same handler (target: at
  least 60 % of it). The socket-level figure under gunicorn is left to a load generator.

    .venv/bin/python bench/checks_sweep.py [--checks 100000] [--pings 3000]
"""

import argparse
import io
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
NAME = os.environ.get("BENCH_DATABASE", "vigil_bench_checks")
BENCH = "checks_sweep"


def prepare_database() -> None:
    with psycopg.connect(f"{BASE}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {NAME}")


def make_checks(count: int, *, overdue_every: int, now: datetime, prefix: str) -> None:
    from healthchecks.pings.models import Check

    rows = []
    for i in range(count):
        late = i % overdue_every == 0
        due = now - timedelta(minutes=5) if late else now + timedelta(hours=1)
        rows.append(
            Check(
                name=f"{prefix} {i}",
                period_seconds=3600,
                grace_seconds=3600,
                state=Check.State.UP,
                last_ping_at=due - timedelta(hours=1),
                due_at=due,
                alert_after=due + timedelta(hours=1),
            )
        )
        if len(rows) == 5000:
            Check.objects.bulk_create(rows)
            rows = []
    Check.objects.bulk_create(rows)


def timed_sweep(now: datetime) -> tuple[float, int, dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from healthchecks.pings.services import checks_sweep

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        found = checks_sweep(now=now)
        took = (time.perf_counter() - started) * 1000
    return took, len(queries), found


def wsgi_rate(path_of, count: int) -> float:
    """Requests per second of GET `path_of(i)` through Django's WSGI handler in this process."""
    from django.core.handlers.wsgi import WSGIHandler

    handler = WSGIHandler()
    answers = set()

    def start_response(status, headers, exc_info=None):
        answers.add(status)

    def call(path):
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
        }
        for _chunk in handler(environ, start_response):
            pass

    for i in range(50):
        call(path_of(i))
    started = time.perf_counter()
    for i in range(count):
        call(path_of(i))
    rate = count / (time.perf_counter() - started)
    if answers != {"200 OK"}:
        raise SystemExit(f"unexpected answers: {answers}")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=100_000)
    parser.add_argument("--pings", type=int, default=3000)
    args = parser.parse_args()
    prepare_database()
    os.environ.update(
        DATABASE_URL=f"{BASE}/{NAME}",
        DEBUG="0",
        SECRET_KEY="bench-" * 10,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.http import HttpResponse
    from django.urls import clear_url_caches, include, path

    from healthchecks.pings.models import Check

    call_command("migrate", verbosity=0)
    now = datetime.now(UTC)
    small = args.checks // 10

    print(f"creating {small:,} checks, 1 % overdue ...", flush=True)
    make_checks(small, overdue_every=100, now=now, prefix="small")
    small_ms, small_queries, small_found = timed_sweep(now)
    print(f"  sweep over {small:,}: {small_ms:.0f} ms, {small_queries} queries, {small_found}")
    Check.objects.all().delete()

    print(f"creating {args.checks:,} checks, 1 % overdue ...", flush=True)
    make_checks(args.checks, overdue_every=100, now=now, prefix="check")
    big_ms, big_queries, big_found = timed_sweep(now)
    print(f"  sweep over {args.checks:,}: {big_ms:.0f} ms, {big_queries} queries, {big_found}")
    steady_ms, steady_queries, _ = timed_sweep(now)
    print(f"  steady sweep (nothing new due): {steady_ms:.1f} ms, {steady_queries} queries")

    down = 100
    pks = list(Check.objects.filter(state=Check.State.LATE).values_list("pk", flat=True)[:down])
    Check.objects.filter(pk__in=pks).update(alert_after=now - timedelta(minutes=1))
    down_ms, down_queries, down_found = timed_sweep(now)
    print(
        f"  sweep taking {down_found['down']} checks down: {down_ms:.0f} ms "
        f"({down_ms / max(1, down_found['down']):.1f} ms and {down_queries / max(1, down_found['down']):.0f} "
        "queries a check: one alert each)"
    )

    def bare(request):
        return HttpResponse("OK\n", content_type="text/plain")

    import types

    urls = types.ModuleType("checks_bench_urls")
    urls.urlpatterns = [path("bench/bare", bare), path("", include("config.urls"))]
    sys.modules["checks_bench_urls"] = urls
    settings.ROOT_URLCONF = "checks_bench_urls"
    clear_url_caches()
    keys = [str(k) for k in Check.objects.order_by("pk").values_list("ping_key", flat=True)[:10_000]]
    bare_rate = wsgi_rate(lambda i: "/bench/bare", args.pings)
    spread_rate = wsgi_rate(lambda i: f"/ping/{keys[i % len(keys)]}", args.pings)
    one_rate = wsgi_rate(lambda i: f"/ping/{keys[0]}", args.pings)
    spread = f"{spread_rate:.0f}/s over {len(keys):,} checks"
    print(f"ping intake in-process: {spread}, {one_rate:.0f}/s on one check")
    print(f"bare Django view through the same handler: {bare_rate:.0f}/s")

    emit(
        BENCH,
        f"sweep, {args.checks:,} checks, 1 % late",
        big_ms,
        "ms",
        target=("<", 1000),
        note=f"{big_queries} queries; {small_queries} over {small:,} checks",
    )
    emit(
        BENCH,
        f"sweep queries, {args.checks:,} vs {small:,} checks",
        big_queries,
        "queries",
        baseline=(small_queries, f"queries over {small:,} checks"),
        ratio_target=("<=", 1.0),
    )
    emit(BENCH, "steady sweep, nothing due", steady_ms, "ms", note=f"{steady_queries} queries")
    emit(
        BENCH,
        "sweep, per check taken down",
        down_ms / max(1, down_found["down"]),
        "ms",
        note=f"{down_found['down']} checks, one alert each",
    )
    emit(
        BENCH,
        "ping intake, 10,000 checks, in-process",
        spread_rate,
        "pings/s",
        baseline=(bare_rate, "bare Django view, same handler"),
        ratio_target=(">=", 0.6),
    )
    emit(
        BENCH,
        "ping intake, all on one check, in-process",
        one_rate,
        "pings/s",
        baseline=(bare_rate, "bare Django view, same handler"),
    )


if __name__ == "__main__":
    main()
