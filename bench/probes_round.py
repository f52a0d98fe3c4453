"""Benchmark: one probe round over 1,000 components against a loopback HTTP server.

The server runs in its own process (as a real endpoint would), threaded: 900 paths answer at
once, 50 answer after 0.3 s (degraded: the threshold is 200 ms), 40 answer 500, and 10 hang
until the probe's 2 s timeout. Runs on PostgreSQL (a throw-away database, default
vigil_bench_probes). Prints each round's time, probes/s and what it did; round 3 is where the
failing components reach 3 failures in a row (status changes and alerts). Target: under 10 s
per round on a 2-core machine.

    .venv/bin/python bench/probes_round.py [--components 1000] [--rounds 3] [--concurrency 64]
"""

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from _report import emit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BASE = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
NAME = os.environ.get("BENCH_DATABASE", "vigil_bench_probes")


def serve(port_queue) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            kind = self.path.strip("/").split("/")[0]
            if kind == "hang":
                time.sleep(20)
                return
            if kind == "slow":
                time.sleep(0.3)
            code, body = (500, b'{"status":"error"}') if kind == "fail" else (200, b'{"status":"ok"}')
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 1024  # read at listen(), so a class attribute; the default 5 drops SYNs

    server = Server(("127.0.0.1", 0), Handler)
    port_queue.put(server.server_address[1])
    server.serve_forever()


def prepare_database() -> None:
    with psycopg.connect(f"{BASE}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {NAME}")
        conn.execute(f"CREATE DATABASE {NAME}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--components", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--profile", action="store_true", help="print a profile of the last round")
    args = parser.parse_args()

    # Start the server before Django or any thread exists (a clean fork).
    ports = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(ports,), daemon=True)
    server.start()
    # The alert announcements go to a throw-away filesystem broker, not the project's own.
    data_dir = tempfile.mkdtemp(prefix="vigil-bench-probes-")
    os.environ["VIGIL_DATA_DIR"] = data_dir
    try:
        port = ports.get(timeout=10)
        run(args, port)
    finally:
        server.terminate()
        server.join(5)
        shutil.rmtree(data_dir, ignore_errors=True)


def run(args, port: int) -> None:
    prepare_database()
    os.environ.update(
        DATABASE_URL=f"{BASE}/{NAME}",
        DEBUG="0",
        SECRET_KEY="bench-" * 10,
        ALLOWED_HOSTS="x",
        PROBE_CONCURRENCY=str(args.concurrency),
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from alerts.models import Alert
    from healthchecks.models import Probe, ProbeResult
    from healthchecks.probes.services import probes_run_due
    from monitoring.models import Metric
    from statuspage.models import Component, ComponentStatusChange

    call_command("migrate", verbosity=0)
    n = args.components
    hanging, failing, slow = n // 100, n * 4 // 100, n * 5 // 100

    def kind(i: int) -> str:
        if i < hanging:
            return "hang"
        if i < hanging + failing:
            return "fail"
        if i < hanging + failing + slow:
            return "slow"
        return "ok"

    components = Component.objects.bulk_create(
        [
            Component(name=f"Service {i:04d}", health_check_url=f"http://127.0.0.1:{port}/{kind(i)}/{i}")
            for i in range(n)
        ]
    )
    Probe.objects.bulk_create(
        [
            Probe(component=c, timeout_seconds=2.0, degraded_latency_ms=200, next_due_at=timezone.now())
            for c in components
        ]
    )
    print(
        f"{n} components: {n - hanging - failing - slow} healthy, {slow} slow (0.3 s), "
        f"{failing} failing (500), {hanging} hanging (2 s timeout); concurrency {args.concurrency}",
        flush=True,
    )
    rounds = []
    for round_number in range(1, args.rounds + 1):
        Probe.objects.update(next_due_at=timezone.now())
        profiler = None
        if args.profile and round_number == args.rounds:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        started = time.perf_counter()
        summary = probes_run_due()
        elapsed = time.perf_counter() - started
        rounds.append(elapsed)
        if profiler:
            import pstats

            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
        print(
            f"round {round_number}: {elapsed:.2f} s, {summary.claimed / elapsed:.0f} probes/s — {summary}",
            flush=True,
        )
    print(
        f"stored: {ProbeResult.objects.count()} results, {Metric.objects.count()} metric points, "
        f"{ComponentStatusChange.objects.count()} status changes, {Alert.objects.count()} alerts",
        flush=True,
    )
    emit(
        "probes_round",
        f"probe round, {n:,} components (slowest of {args.rounds} rounds)",
        max(rounds),
        "s",
        target=("<", 10),
        # No round can end before the hanging components' timeout.
        baseline=(2.0, "the 2 s probe timeout (the floor)"),
        note=f"{n / max(rounds):.0f} probes/s in the slowest round; concurrency {args.concurrency}",
    )


if __name__ == "__main__":
    main()
