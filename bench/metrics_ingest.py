"""Ingest benchmark: points/s through POST /api/operations/metrics (the web server on loopback, batches
of 1,000) beside a raw psycopg COPY of the same rows into the same table, in the same run.

    .venv/bin/python bench/metrics_ingest.py [--points 300000] [--batch-sizes 1000,10000] [--workers 2]

Target: API >= 50,000 points/s and >= half of raw COPY, for batches of 1,000 and of 10,000.
"""

import argparse
import json
import random
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

from _metrics_common import ROOT, bench_env, create_database, drop_database, setup_django
from _report import emit


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_batches(count: int, size: int) -> list[list[dict]]:
    rng = random.Random(1)
    start = datetime.now(UTC) - timedelta(hours=1)
    batches = []
    for b in range(count):
        batch = []
        for i in range(size):
            n = b * size + i
            batch.append(
                {
                    "name": "http.response_time",
                    "value": round(rng.uniform(1, 500), 3),
                    "metric_type": "performance",
                    "category": "response_time",
                    "unit": "ms",
                    "source": f"web-{n % 10}",
                    "endpoint": f"api/items/<int:pk>/{n % 20}",
                    "tags": {"region": "eu" if n % 2 else "us"},
                    "timestamp": (start + timedelta(milliseconds=n)).isoformat(),
                }
            )
        batches.append(batch)
    return batches


def wait_for(port: int, deadline: float) -> None:
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the web server did not start")


def api_ingest(port: int, token: str, bodies: list[bytes], clients: int) -> float:
    import requests

    queue = list(range(len(bodies)))
    lock = threading.Lock()
    failures = []

    def client():
        session = requests.Session()
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        while True:
            with lock:
                if not queue:
                    return
                index = queue.pop()
            response = session.post(
                f"http://127.0.0.1:{port}/api/operations/metrics",
                data=bodies[index],
                headers=headers,
                timeout=60,
            )
            if response.status_code != 201:
                failures.append((response.status_code, response.text[:200]))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{len(failures)} failed requests, e.g. {failures[0]}")
    return elapsed


def raw_copy(batches: list[list[dict]]) -> float:
    from django.db import connection

    from monitoring.ingest import points_validate
    from monitoring.writer import COPY_COLUMNS

    rows = [p for batch in batches for p in points_validate(batch)]
    connection.ensure_connection()
    conn = connection.connection
    started = time.perf_counter()
    with (
        conn.cursor() as cursor,
        cursor.copy(f"COPY monitoring_metric ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
    conn.commit()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=300_000)
    parser.add_argument("--batch-sizes", default="1000,10000")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()
    env = bench_env()
    create_database(env)
    setup_django(env)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from rest_framework.authtoken.models import Token

    # A superuser: the API checks model permissions (roles), which a bare staff account lacks.
    user = get_user_model().objects.create_user("bench", is_staff=True, is_superuser=True)
    token = Token.objects.create(user=user).key
    sizes = [int(size) for size in args.batch_sizes.split(",")]
    port = free_port()
    server = subprocess.Popen(
        # The Procfile's web server, one Django thread per worker as before.
        [sys.executable, "-m", "config.web"],
        cwd=ROOT,
        env={
            **env,
            "VIGIL_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": str(args.workers),
            "WEB_THREADS": "1",
            "ACCESS_LOG": "0",
        },
        stderr=subprocess.DEVNULL,
    )
    api_rates = {}
    try:
        wait_for(port, time.time() + 30)
        for size in sizes:
            batches = make_batches(max(1, args.points // size), size)
            bodies = [json.dumps(batch).encode() for batch in batches]
            total = len(batches) * size
            api_ingest(port, token, bodies[:4], args.clients)  # warm up workers and connections
            with connection.cursor() as cursor:
                cursor.execute("TRUNCATE monitoring_metric")
            api_seconds = api_ingest(port, token, bodies, args.clients)
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM monitoring_metric WHERE name = 'http.response_time'")
                stored = cursor.fetchone()[0]
                cursor.execute("TRUNCATE monitoring_metric")
            assert stored == total, f"{stored} rows stored, {total} sent"
            api_rates[size] = (total / api_seconds, api_seconds, total)
    finally:
        server.terminate()
        server.wait(10)
    copy_batches = make_batches(max(1, args.points // sizes[0]), sizes[0])
    copy_total = len(copy_batches) * sizes[0]
    copy_seconds = raw_copy(copy_batches)
    copy_rate = copy_total / copy_seconds
    print(f"web workers: {args.workers}, client threads: {args.clients}")
    print(
        f"raw psycopg COPY        : {copy_rate:>10,.0f} points/s "
        f"({copy_total:,} points, {copy_seconds:.2f} s)"
    )
    for size, (api_rate, api_seconds, total) in api_rates.items():
        print(
            f"HTTP API, batches {size:>6,}: {api_rate:>10,.0f} points/s "
            f"({total:,} points, {api_seconds:.2f} s)"
            f" = {api_rate / copy_rate:.1%} of COPY (target: >= 50,000 points/s and >= 50 %)"
        )
        emit(
            "metrics_ingest",
            f"metrics ingest, HTTP API, batches of {size:,}",
            api_rate,
            "points/s",
            target=(">=", 50_000),
            baseline=(copy_rate, "raw psycopg COPY"),
            ratio_target=(">=", 0.5),
            note=f"{total:,} points, {args.workers} web workers, {args.clients} client threads",
        )
    connection.close()
    if not args.keep:
        drop_database()


if __name__ == "__main__":
    main()
