"""Benchmark: an agent posting batches of 10,000 results (POST /api/agent/results).

Each batch goes through the whole request path in this process (Django's test client: the
agent-key check, JSON parsing, the field checks, the ON CONFLICT insert of the results, the
per-location streaks under row locks, the metric points and the quorum of every component
touched). Baseline, measured in the same run on the same database: a bare bulk insert of the
same number of ProbeResult rows. Also timed: the same batch sent again (every result a
duplicate, nothing counted). A 10,000-result batch is about 2 MB of JSON, under Django's
default request body limit (DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB). PostgreSQL, a throw-away
database (default vigil_bench_agents).

    .venv/bin/python bench/agent_results.py [--probes 1000] [--size 10000] [--batches 5]
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import psycopg
from _report import emit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BASE = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
NAME = os.environ.get("BENCH_DATABASE", "vigil_bench_agents")


def prepare_database() -> None:
    with psycopg.connect(f"{BASE}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {NAME}")
        conn.execute(f"CREATE DATABASE {NAME}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--probes", type=int, default=1000)
    parser.add_argument("--size", type=int, default=10000, help="results per batch")
    parser.add_argument("--batches", type=int, default=5)
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="vigil-bench-agents-")
    os.environ["VIGIL_DATA_DIR"] = data_dir
    try:
        run(args)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def run(args) -> None:
    prepare_database()
    os.environ.update(
        DATABASE_URL=f"{BASE}/{NAME}",
        DEBUG="0",
        SECRET_KEY="bench-" * 10,
        ALLOWED_HOSTS="testserver",
        AGENT_BATCH_MAX=str(max(args.size, 100)),
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from healthchecks.agents.services import agent_key_create, location_create
    from healthchecks.models import Probe, ProbeResult
    from statuspage.models import Component

    call_command("migrate", verbosity=0)
    location = location_create(name="Bench location")
    _, secret = agent_key_create(location=location)
    components = Component.objects.bulk_create(
        [
            Component(name=f"Service {i:04d}", health_check_url=f"http://127.0.0.1:9/{i}")
            for i in range(args.probes)
        ]
    )
    probes = Probe.objects.bulk_create([Probe(component=c, failures_before_down=3) for c in components])
    Probe.locations.through.objects.bulk_create(
        [Probe.locations.through(probe_id=p.pk, probelocation_id=location.pk) for p in probes]
    )
    client = Client()
    start = timezone.now() - timedelta(hours=1)
    clock = [0]

    def batch() -> list[dict]:
        rows = []
        for n in range(args.size):
            clock[0] += 1
            probe = probes[n % len(probes)]
            failed = probe.pk % 20 == 0  # one in twenty probes failing: streaks, outages, alerts
            rows.append(
                {
                    "id": str(uuid.uuid4()),
                    "probe": probe.pk,
                    "checked_at": (start + timedelta(milliseconds=clock[0])).isoformat(),
                    "verdict": "failed" if failed else "ok",
                    "latency_ms": 12.5,
                    "status_code": 500 if failed else 200,
                    "detail": "HTTP 500, expected 200" if failed else "",
                }
            )
        return rows

    def post(rows: list[dict]) -> tuple[float, dict]:
        started = time.perf_counter()
        response = client.post(
            "/api/agent/results",
            {"results": rows},
            content_type="application/json",
            secure=True,  # DEBUG=0 redirects plain HTTP to HTTPS
            HTTP_AUTHORIZATION=f"Bearer {secret}",
        )
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"HTTP {response.status_code}: {response.content[:300]!r}")
        return elapsed, response.json()

    print(f"{args.probes} probes at one location; {args.batches} batches of {args.size} results", flush=True)
    times = []
    last = []
    for number in range(1, args.batches + 1):
        last = batch()
        elapsed, body = post(last)
        times.append(elapsed)
        print(f"batch {number}: {elapsed:.2f} s, {args.size / elapsed:,.0f} results/s — {body}", flush=True)
    resend, body = post(last)
    print(f"the last batch again: {resend:.2f} s — {body}", flush=True)

    # Baseline: the same number of rows, a bare bulk insert (no checks, streaks or metrics).
    rows = [
        ProbeResult(
            probe_id=probes[n % len(probes)].pk, checked_at=start, ok=True, latency_ms=12.5, location=location
        )
        for n in range(args.size)
    ]
    started = time.perf_counter()
    ProbeResult.objects.bulk_create(rows, batch_size=1000)
    bare = time.perf_counter() - started
    print(
        f"baseline: bare bulk insert of {args.size} rows {bare:.2f} s ({args.size / bare:,.0f} rows/s)",
        flush=True,
    )

    median = sorted(times)[len(times) // 2]
    emit(
        "agent_results",
        f"agent batch of {args.size:,} results (median of {args.batches})",
        median,
        "s",
        baseline=(bare, f"bare bulk insert of {args.size:,} rows"),
        note=f"{args.size / median:,.0f} results/s; resend of a batch {resend:.2f} s",
    )
    emit(
        "agent_results",
        "agent results stored per second",
        args.size / median,
        "rows/s",
        baseline=(args.size / bare, "bare bulk insert"),
    )


if __name__ == "__main__":
    main()
