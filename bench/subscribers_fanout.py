"""Benchmark: one incident update mailed to 100,000 confirmed subscribers.

    .venv/bin/python bench/subscribers_fanout.py [--subscribers 100000] [--concurrency 2]

What runs, all on loopback:
- PostgreSQL database BENCH_DB (default vigil_bench_subs), dropped and re-created;
- an aiosmtpd SMTP sink in its own process that only counts what it accepts;
- a real Celery worker (prefork, --concurrency) on Redis (BENCH_BROKER, default db 0);
- this process posts the incident through statuspage.services.incident_create, exactly as the
  admin or the API would; its transaction writes the message and one delivery per subscriber,
  and after commit the worker splits them into ranges and sends.

Prints: the producer's time, the time until the last mail arrived, mails/s, and the worker's
resident memory (peak per process, and at 10/50/90 % of the way) to show it stays flat. Bounded
by --timeout; stops what it started by process id.
"""

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import emit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DB = os.environ.get("BENCH_DB", "vigil_bench_subs")
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
BROKER = os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/0")
CACHE = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/1")


# --- the SMTP sink (run as `subscribers_fanout.py --sink PORT STATUSFILE`) ------------------


def report_until_stopped(state: dict, status_file: str) -> None:
    """Write the sink's count and first/last arrival times to status_file until SIGTERM."""
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    tmp = status_file + ".tmp"
    while not stop:
        # Best effort: the sink keeps counting even if the status folder is removed under it.
        with contextlib.suppress(OSError):
            with open(tmp, "w") as fh:
                fh.write(f"{state['count']} {state['first']} {state['last']}")
            os.replace(tmp, status_file)
        time.sleep(0.2)


def run_sink(port: int, status_file: str) -> None:
    from aiosmtpd.controller import Controller

    state = {"count": 0, "first": 0.0, "last": 0.0}

    class Counter:
        async def handle_DATA(self, server, session, envelope):
            now = time.time()
            state["count"] += len(envelope.rcpt_tos)
            state["first"] = state["first"] or now
            state["last"] = now
            return "250 OK"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    report_until_stopped(state, status_file)
    controller.stop()


def read_sink(status_file: str) -> tuple[int, float, float]:
    try:
        count, first, last = Path(status_file).read_text().split()
        return int(count), float(first), float(last)
    except (OSError, ValueError):
        return 0, 0.0, 0.0


# --- the benchmark ----------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def admin_sql(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def rss_tree(pid: int) -> dict[int, int]:
    import psutil

    try:
        parent = psutil.Process(pid)
        procs = [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return {}
    out = {}
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            out[proc.pid] = proc.memory_info().rss
    return out


def stop_process(proc: subprocess.Popen, name: str) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        print(f"{name} (pid {proc.pid}) did not stop on SIGTERM; killing it")
        proc.kill()
        proc.wait(5)


def seed_subscribers(count: int) -> None:
    from subscribers.models import Subscriber, new_token

    batch = 5000
    for start in range(0, count, batch):
        Subscriber.objects.bulk_create(
            [
                Subscriber(email=f"subscriber{n}@example.com", status="confirmed", manage_token=new_token())
                for n in range(start, min(count, start + batch))
            ]
        )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument(
        "--timeout", type=float, default=900, help="give up after this many seconds of sending"
    )
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument(
        "--async-commit",
        action="store_true",
        help="ALTER DATABASE ... SET synchronous_commit = off, to show how much of the per-mail cost is "
        "the outbox's one WAL flush per delivery (a durability trade-off, not Vigil's default)",
    )
    args = parser.parse_args()

    # Not "vigil-bench-*": other benchmarks clean up after themselves with that pattern.
    work = tempfile.mkdtemp(prefix="subscribers-fanout-")
    (Path(work) / "static").mkdir()
    port = free_port()
    status_file = str(Path(work) / "sink.status")
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{BENCH_DB}",
        "CELERY_BROKER_URL": BROKER,
        "REDIS_URL": CACHE,
        "EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "VIGIL_DATA_DIR": work,
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        "PUBLIC_URL": "https://status.example.com",
    }
    admin_sql(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    admin_sql(f'CREATE DATABASE "{BENCH_DB}"')
    if args.async_commit:
        admin_sql(f'ALTER DATABASE "{BENCH_DB}" SET synchronous_commit = off')
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "-v", "0"], env=env, cwd=ROOT, check=True
    )
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db.models import Count

    from config.celery import app as celery_app
    from notifications.models import Delivery
    from statuspage import services
    from statuspage.models import ComponentStatus

    started = time.monotonic()
    seed_subscribers(args.subscribers)
    print(f"seeded {args.subscribers} confirmed subscribers in {time.monotonic() - started:.1f} s")
    component = services.component_create(name="API")
    celery_app.control.purge()

    sink = subprocess.Popen([sys.executable, __file__, "--sink", str(port), status_file], cwd=ROOT)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            str(args.concurrency),
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 60
        while not rss_tree(worker.pid) or len(rss_tree(worker.pid)) < args.concurrency + 1:
            if time.monotonic() > deadline or worker.poll() is not None:
                print("the worker did not start")
                return 1
            time.sleep(0.5)
        while not Path(status_file).exists():
            time.sleep(0.1)
        time.sleep(2)  # let the worker settle before measuring its memory baseline
        baseline = rss_tree(worker.pid)

        t0 = time.time()
        services.incident_create(
            title="API errors",
            message="We are investigating elevated error rates on the API.",
            components={component: ComponentStatus.MAJOR_OUTAGE},
        )
        committed = time.time()
        print(
            f"producer: incident_create + {args.subscribers} deliveries committed in {committed - t0:.1f} s"
        )

        peaks: dict[int, int] = {}
        at_progress: dict[int, int] = {}
        count = 0
        while time.time() - committed < args.timeout:
            count, first, last = read_sink(status_file)
            for pid, rss in rss_tree(worker.pid).items():
                peaks[pid] = max(peaks.get(pid, 0), rss)
            for mark in (10, 50, 90):
                if mark not in at_progress and count >= args.subscribers * mark / 100:
                    at_progress[mark] = sum(rss_tree(worker.pid).values())
            if count >= args.subscribers:
                break
            time.sleep(0.25)
        time.sleep(0.5)
        count, first, last = read_sink(status_file)
        statuses = dict(Delivery.objects.values_list("status").annotate(n=Count("pk")))
    finally:
        stop_process(worker, "worker")
        stop_process(sink, "SMTP sink")
        if not args.keep_db:
            from django.db import connections

            connections.close_all()
            admin_sql(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)

    mib = 1024 * 1024
    print(f"mails received: {count} of {args.subscribers}; deliveries by status: {statuses}")
    if count:
        print(f"update to last mail: {last - t0:.1f} s (after commit: {last - committed:.1f} s)")
        print(
            f"throughput: {count / max(0.001, last - t0):.0f} mails/s end to end, "
            f"{count / max(0.001, last - first):.0f} mails/s while sending"
        )
    base_total = sum(baseline.values())
    print(f"worker RSS before: {base_total / mib:.0f} MiB total over {len(baseline)} processes")
    print(
        "worker RSS peak per process: " + ", ".join(f"{rss / mib:.0f} MiB" for rss in sorted(peaks.values()))
    )
    print(
        "worker RSS total at 10/50/90 % sent: "
        + " / ".join(f"{at_progress[m] / mib:.0f} MiB" if m in at_progress else "-" for m in (10, 50, 90))
    )
    within = count >= args.subscribers and last - t0 <= 300
    print(f"target (all within 5 minutes): {'met' if within else 'NOT met'}")
    if count:
        emit(
            "subscribers_fanout",
            f"{args.subscribers:,} subscribers, one incident update: time to the last mail",
            last - t0 if count >= args.subscribers else time.time() - t0,
            "s",
            target=("<=", 300),
            note=f"{count:,} of {args.subscribers:,} mails; {count / max(0.001, last - t0):.0f} mails/s; "
            f"producer {committed - t0:.1f} s; worker concurrency {args.concurrency}",
        )
    if 10 in at_progress and 90 in at_progress:
        emit(
            "subscribers_fanout",
            "worker RSS at 90 % sent",
            at_progress[90] / mib,
            "MiB",
            baseline=(at_progress[10] / mib, "at 10 % sent"),
            ratio_target=("<=", 1.10),  # flat
            note=f"{len(baseline)} worker processes; {base_total / mib:.0f} MiB before",
        )
    return 0 if count >= args.subscribers else 1


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--sink":
        run_sink(int(sys.argv[2]), sys.argv[3])
        sys.exit(0)
    sys.exit(main())
