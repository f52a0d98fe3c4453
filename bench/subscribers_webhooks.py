"""Benchmark: one incident update posted to 10,000 confirmed webhook subscribers, against the
same number of e-mails measured in the same run.

    .venv/bin/python bench/subscribers_webhooks.py [--subscribers 10000] [--concurrency 2]

What runs, all on loopback:
- PostgreSQL database BENCH_DB (default vigil_bench_hooks), dropped and re-created;
- a webhook receiver (a threaded HTTP server in its own process that counts the POSTs it
  answers 200) and an aiosmtpd SMTP sink (bench/subscribers_fanout.py's), each in its own process;
- a real Celery worker (prefork, --concurrency) on Redis (BENCH_BROKER, default db 2), started
  fresh for each phase so each has its own memory peak;
- this process posts each incident through statuspage.services.incident_create, as the admin or
  the API would.

Phase 1, the baseline: N e-mail subscribers of component "Mail", an incident on it. Phase 2: N
webhook subscribers of component "Hooks" (each its own URL and secret), an incident on it: each
subscriber gets two signed Statuspage posts, the incident and the component_update its status
change made (2N posts). Prints for each the time from the update to the last
delivery and the worker's peak resident memory (psutil RSS, all its processes), and the webhook
figures as ratios to the e-mail ones. Bounded by --timeout per phase; stops what it started by
process id.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import emit
from subscribers_fanout import admin_sql, free_port, read_sink, rss_tree, stop_process

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DB = os.environ.get("BENCH_DB", "vigil_bench_hooks")
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
BROKER = os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/2")
CACHE = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/3")
MIB = 1024 * 1024


# --- the webhook receiver (run as `subscribers_webhooks.py --receiver PORT STATUSFILE`) -------


def run_receiver(port: int, status_file: str) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    state = {"count": 0, "first": 0.0, "last": 0.0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
            now = time.time()
            with lock:
                state["count"] += 1
                state["first"] = state["first"] or now
                state["last"] = now

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    from subscribers_fanout import report_until_stopped

    report_until_stopped(state, status_file)
    server.shutdown()


def run_smtp_sink(port: int, status_file: str) -> None:
    from subscribers_fanout import run_sink

    run_sink(port, status_file)


# --- the benchmark ----------------------------------------------------------------------------


def seed(count: int, component, kind: str, hook_port: int) -> None:
    from subscribers.models import Subscriber, new_token

    through = Subscriber.components.through
    batch = 2000
    for start in range(0, count, batch):
        rows = []
        for n in range(start, min(count, start + batch)):
            if kind == "email":
                rows.append(
                    Subscriber(
                        email=f"subscriber{n}@example.com", status="confirmed", manage_token=new_token()
                    )
                )
            else:
                rows.append(
                    Subscriber(
                        kind="webhook",
                        email="",
                        url=f"http://127.0.0.1:{hook_port}/hook/{n}",
                        secret=new_token(),
                        status="confirmed",
                        manage_token=new_token(),
                    )
                )
        created = Subscriber.objects.bulk_create(rows)
        through.objects.bulk_create([through(subscriber_id=s.pk, component_id=component.pk) for s in created])


def start_worker(env: dict, concurrency: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "prefork",
         "--concurrency", str(concurrency), "--without-heartbeat", "--without-gossip",
         "--without-mingle", "--loglevel", "WARNING"],
        env=env,
        cwd=ROOT,
    )  # fmt: skip


def run_phase(name: str, component, expected: int, status_file: str, env: dict, args) -> dict:
    """Start a fresh worker, post one incident on `component`, wait for `expected` deliveries."""
    from statuspage import services
    from statuspage.models import ComponentStatus

    worker = start_worker(env, args.concurrency)
    try:
        deadline = time.monotonic() + 60
        while len(rss_tree(worker.pid)) < args.concurrency + 1:
            if time.monotonic() > deadline or worker.poll() is not None:
                raise SystemExit(f"{name}: the worker did not start")
            time.sleep(0.5)
        time.sleep(2)  # let it settle before its memory baseline
        idle = sum(rss_tree(worker.pid).values())
        start_count = read_sink(status_file)[0]
        t0 = time.time()
        services.incident_create(
            title=f"{name}: API errors",
            message="We are investigating elevated error rates on the API.",
            components={component: ComponentStatus.MAJOR_OUTAGE},
        )
        committed = time.time()
        peak = idle
        count, last = 0, t0
        while time.time() - committed < args.timeout:
            count, _, last = read_sink(status_file)
            count -= start_count
            peak = max(peak, sum(rss_tree(worker.pid).values()))
            if count >= expected:
                break
            time.sleep(0.25)
    finally:
        stop_process(worker, f"{name} worker")
    result = {
        "name": name,
        "count": count,
        "expected": expected,
        "producer": committed - t0,
        "to_last": (last - t0) if count >= expected else time.time() - t0,
        "idle_rss": idle,
        "peak_rss": peak,
    }
    print(
        f"{name}: {count} of {expected} delivered; producer {result['producer']:.1f} s; "
        f"update to last delivery {result['to_last']:.1f} s ({count / max(0.001, result['to_last']):.0f}/s); "
        f"worker RSS idle {idle / MIB:.0f} MiB, peak {peak / MIB:.0f} MiB"
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600, help="give up a phase after this many seconds")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="subscribers-webhooks-")
    (Path(work) / "static").mkdir()
    smtp_port, hook_port = free_port(), free_port()
    smtp_status, hook_status = str(Path(work) / "smtp.status"), str(Path(work) / "hooks.status")
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{BENCH_DB}",
        "CELERY_BROKER_URL": BROKER,
        "REDIS_URL": CACHE,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
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
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "-v", "0"], env=env, cwd=ROOT, check=True
    )
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from config.celery import app as celery_app
    from statuspage import services

    sink = subprocess.Popen([sys.executable, __file__, "--sink", str(smtp_port), smtp_status], cwd=ROOT)
    receiver = subprocess.Popen(
        [sys.executable, __file__, "--receiver", str(hook_port), hook_status], cwd=ROOT
    )
    try:
        mail, hooks = services.component_create(name="Mail"), services.component_create(name="Hooks")
        started = time.monotonic()
        seed(args.subscribers, mail, "email", hook_port)
        seed(args.subscribers, hooks, "webhook", hook_port)
        took = time.monotonic() - started
        print(f"seeded {args.subscribers} e-mail and {args.subscribers} webhook subscribers in {took:.1f} s")
        celery_app.control.purge()
        while not (Path(smtp_status).exists() and Path(hook_status).exists()):
            time.sleep(0.1)
        email = run_phase("e-mail (baseline)", mail, args.subscribers, smtp_status, env, args)
        # Each webhook subscriber gets two posts: the incident, and the component's status change
        # the incident made (Statuspage's component_update).
        webhook = run_phase("webhooks", hooks, 2 * args.subscribers, hook_status, env, args)
    finally:
        stop_process(sink, "SMTP sink")
        stop_process(receiver, "webhook receiver")
        from django.db import connections

        connections.close_all()
        admin_sql(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)

    complete = webhook["count"] >= 2 * args.subscribers and email["count"] >= args.subscribers
    time_ratio = webhook["to_last"] / max(0.001, email["to_last"])
    rss_ratio = webhook["peak_rss"] / max(1, email["peak_rss"])
    print(f"webhooks / e-mail: time to the last delivery x{time_ratio:.2f}, worker peak RSS x{rss_ratio:.2f}")
    note = (
        f"{webhook['count']:,} of {2 * args.subscribers:,} posts (incident + component update each); "
        f"worker concurrency {args.concurrency}"
    )
    emit(
        "subscribers_webhooks",
        f"{args.subscribers:,} webhook subscribers, one incident update: time to the last delivery",
        webhook["to_last"],
        "s",
        baseline=(email["to_last"], f"{args.subscribers:,} e-mails to a loopback SMTP server"),
        note=note,
    )
    emit(
        "subscribers_webhooks",
        "worker peak RSS while delivering the webhooks",
        webhook["peak_rss"] / MIB,
        "MiB",
        baseline=(email["peak_rss"] / MIB, "while delivering the e-mails"),
        note=f"idle {webhook['idle_rss'] / MIB:.0f} MiB (webhooks), "
        f"{email['idle_rss'] / MIB:.0f} MiB (e-mail)",
    )
    return 0 if complete else 1


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--receiver":
        run_receiver(int(sys.argv[2]), sys.argv[3])
        sys.exit(0)
    if len(sys.argv) == 4 and sys.argv[1] == "--sink":
        run_smtp_sink(int(sys.argv[2]), sys.argv[3])
        sys.exit(0)
    sys.exit(main())
