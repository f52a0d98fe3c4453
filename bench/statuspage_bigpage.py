#!/usr/bin/env python3
"""Benchmark: the status page's home page with many components (first render after a change).

PostgreSQL, a throw-away database (default vigil_bench_bigpage), Redis as the shared cache
(BENCH_REDIS_URL, default db 7; only this benchmark's page keys are read and deleted). For each
size (100, the baseline, then 1,000 and 10,000 components by default) it loads that many
components in groups of 100, each with 90 days of uptime rows (one bad day in seven, so the bars
carry outage text), then renders `/` once in a fresh process, as the first visitor after a
change does, and prints:

- the first render's wall time;
- the HTML's size, and the gzip copy's;
- the process's peak RSS (`ru_maxrss`), and how much the render added to it;
- what the render stored in the shared cache (the sum of the page keys' sizes in Redis).

Each figure is a ratio to the 100-component page measured in the same run. Targets: the first
render of 10,000 components within 3 s, its HTML within 1 MB, its peak RSS within 150 % of the
baseline's, and no shared-cache entry beyond STATUSPAGE_CACHE_MAX_BYTES.

    .venv/bin/python bench/statuspage_bigpage.py [--sizes 100,1000,10000]
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from _report import emit

ROOT = Path(__file__).resolve().parent.parent
BASE = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
NAME = os.environ.get("BENCH_DATABASE", "vigil_bench_bigpage")
REDIS = os.environ.get("BENCH_REDIS_URL", os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/7"))
GROUP_SIZE = 100
DAYS = 90
PAGE_KEYS = "*statuspage:page:*"


def environment() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(
        DATABASE_URL=f"{BASE}/{NAME}",
        REDIS_URL=REDIS,
        DEBUG="0",
        SECRET_KEY="bench-" * 10,
        ALLOWED_HOSTS="testserver",
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONUNBUFFERED="1",
    )
    return env


def prepare_database() -> None:
    with psycopg.connect(f"{BASE}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {NAME}")
        conn.execute(f"CREATE DATABASE {NAME}")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
        cwd=ROOT,
        env=environment(),
        check=True,
    )


def load_components(total: int) -> None:
    """Grow the page to `total` components (groups of 100), each with 90 days of uptime rows."""
    with psycopg.connect(f"{BASE}/{NAME}", autocommit=True) as conn:
        have = conn.execute("SELECT count(*) FROM statuspage_component").fetchone()[0]
        if have >= total:
            return
        conn.execute(
            """
            INSERT INTO statuspage_componentgroup (name, description, position, collapsed)
            SELECT 'Region ' || g, '', g, false FROM generate_series(%(first)s::int, %(last)s::int) AS g
            ON CONFLICT (name) DO NOTHING
            """,
            {"first": have // GROUP_SIZE, "last": (total - 1) // GROUP_SIZE},
        )
        conn.execute(
            """
            INSERT INTO statuspage_component (name, description, type, group_id, position, status,
                status_source, status_changed_at, health_check_url, show_uptime, created_at, updated_at)
            SELECT 'Service ' || i, 'Node ' || i, 'service', g.id, i, 'operational', 'system',
                now() - interval '100 days', '', true, now() - interval '100 days', now()
            FROM generate_series(%(first)s::int, %(last)s::int) AS i
            JOIN statuspage_componentgroup g ON g.name = 'Region ' || (i / %(size)s)
            """,
            {"first": have, "last": total - 1, "size": GROUP_SIZE},
        )
        conn.execute(
            """
            INSERT INTO statuspage_componentuptimeday (component_id, day, observed_seconds,
                major_outage_seconds, partial_outage_seconds, degraded_seconds, maintenance_seconds,
                computed_until, closed)
            SELECT c.id, (now() at time zone 'utc')::date - d, 86400,
                CASE WHEN (c.id + d) %% 7 = 0 THEN 1800 ELSE 0 END,
                CASE WHEN (c.id + d) %% 11 = 0 THEN 3600 ELSE 0 END,
                0, 0,
                date_trunc('day', now() at time zone 'utc') at time zone 'utc' - (d - 1) * interval '1 day',
                d > 0
            FROM statuspage_component c CROSS JOIN generate_series(0, %(days)s::int - 1) AS d
            WHERE c.id NOT IN (SELECT DISTINCT component_id FROM statuspage_componentuptimeday)
            """,
            {"days": DAYS},
        )


def render_once() -> dict:
    """In a fresh process: the first render of `/` with an empty page cache (prints JSON)."""
    import resource

    import django

    django.setup()
    import redis
    from django.test import Client

    client_redis = redis.Redis.from_url(REDIS)
    for key in client_redis.scan_iter(PAGE_KEYS):
        client_redis.delete(key)
    from statuspage import cache as page_cache

    page_cache.invalidate()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    response = Client().get("/", secure=True, HTTP_ACCEPT_ENCODING="identity")
    seconds = time.perf_counter() - started
    assert response.status_code == 200, response.status_code
    zipped = Client().get("/", secure=True, HTTP_ACCEPT_ENCODING="gzip")
    stored = [client_redis.strlen(key) for key in client_redis.scan_iter(PAGE_KEYS)]
    return {
        "seconds": seconds,
        "bytes": len(response.content),
        "gzip_bytes": len(zipped.content),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_before_mib": rss_before,
        "stored_bytes": sum(stored),
        "stored_entries": len(stored),
    }


def measure(size: int) -> dict:
    load_components(size)
    done = subprocess.run(
        [sys.executable, __file__, "--render-once"],
        cwd=ROOT,
        env=environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"rendering {size} components failed (exit {done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", default="100,1000,10000", help="component counts; the first is the baseline"
    )
    parser.add_argument("--render-once", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.render_once:
        sys.path.insert(0, str(ROOT))
        os.chdir(ROOT)
        print(json.dumps(render_once()))
        return
    sizes = [int(size) for size in args.sizes.split(",")]
    prepare_database()
    results = {}
    print(
        f"{'components':>10}  {'first render':>12}  {'HTML':>10}  {'gzip':>9}  "
        f"{'peak RSS':>9}  {'added':>8}  stored"
    )
    for size in sizes:
        result = results[size] = measure(size)
        print(
            f"{size:>10,}  {result['seconds'] * 1000:>9,.0f} ms  {result['bytes'] / 1e6:>7.2f} MB  "
            f"{result['gzip_bytes'] / 1e3:>6,.0f} kB  {result['peak_rss_mib']:>5,.0f} MiB  "
            f"{result['peak_rss_mib'] - result['rss_before_mib']:>4,.0f} MiB  "
            f"{result['stored_bytes'] / 1e6:.2f} MB in {result['stored_entries']} entr"
            f"{'y' if result['stored_entries'] == 1 else 'ies'}",
            flush=True,
        )
    base_size, base = sizes[0], results[sizes[0]]
    label = f"the {base_size:,}-component page"
    for size in sizes[1:]:
        result = results[size]
        largest = size == sizes[-1]
        emit(
            "statuspage_bigpage",
            f"home page, {size:,} components: first render",
            result["seconds"] * 1000,
            "ms",
            target=("<", 3000) if largest else None,
            baseline=(base["seconds"] * 1000, label),
        )
        emit(
            "statuspage_bigpage",
            f"home page, {size:,} components: HTML",
            result["bytes"] / 1e3,
            "kB",
            target=("<=", 1000) if largest else None,
            baseline=(base["bytes"] / 1e3, label),
        )
        emit(
            "statuspage_bigpage",
            f"home page, {size:,} components: peak RSS of the rendering process",
            result["peak_rss_mib"],
            "MiB",
            baseline=(base["peak_rss_mib"], label),
            ratio_target=("<=", 1.5) if largest else None,
        )
        emit(
            "statuspage_bigpage",
            f"home page, {size:,} components: bytes stored in the shared cache",
            result["stored_bytes"] / 1e3,
            "kB",
            baseline=(base["stored_bytes"] / 1e3, label),
        )


if __name__ == "__main__":
    main()
