#!/usr/bin/env python3
"""Ping intake under the Procfile's web server: pings/s and p99 over many checks and on one,
beside a bare view.

    .venv/bin/python bench/ping_intake.py [--checks 10000] [--seconds 15] [--connections 50]

Serves Vigil with the Procfile's web server (`python -m config.web`: granian, 2 workers, the
access log on and thrown away) on loopback, in service mode (PostgreSQL database
`vigil_bench_pings`, Redis as the cache), with --checks simple checks. wrk (Debian package `wrk`)
drives it at --connections connections, three ways in interleaved rounds:
- a bare Django view through the same server and middleware (the baseline);
- GET /ping/<uuid> spread over every check (a Lua script walks the keys);
- GET /ping/<uuid> all on one check: every ping waits for that check's row lock.
Pings are counted by the ping throttle as from another machine (loopback is exempt by default;
here nothing is, and the limit is far above the rate), so its Redis increment is in the figure.
Target: pings over many checks at >= 60 % of the bare view's requests/s.

wrk runs on the same two cores as the server and PostgreSQL; its own CPU per request is printed
beside the server's, so the reader can see what the load generator itself took. Everything this
starts is stopped by process id. Afterwards every ping must be in the database: the count of
Ping rows is checked against the requests wrk completed.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _report import emit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DATABASE = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/vigil_bench_pings")
REDIS = os.environ.get("BENCH_REDIS_URL", os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1"))
BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/12")
ROUNDS = 3

BENCH_SETTINGS = """
from config.settings import *  # noqa: F401,F403

ROOT_URLCONF = "ping_bench_urls"
"""
BENCH_URLS = """
from django.http import HttpResponse
from django.urls import include, path


def bare(request):
    return HttpResponse("OK\\n", content_type="text/plain; charset=utf-8")


urlpatterns = [path("bench/bare", bare), path("", include("config.urls"))]
"""
# Each wrk thread runs this in its own Lua state; they start at different places in the list.
SPREAD_SCRIPT = """
local keys = {}
for line in io.lines("%(keys)s") do keys[#keys + 1] = line end
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
local i = math.random(#keys)
request = function()
  i = i %% #keys + 1
  return wrk.format("GET", "/ping/" .. keys[i])
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recreate_database() -> None:
    import psycopg

    name = DATABASE.rsplit("/", 1)[1]
    admin = DATABASE.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def django_run(env: dict, code: str) -> str:
    done = subprocess.run(
        [PYTHON, "-c", "import django; django.setup()\n" + code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise SystemExit(f"failed: {done.stderr.strip()[-2000:]}")
    return done.stdout


# The checks have all pinged before (the steady state): the ping buffer knows their keys.
SEED = """
from healthchecks.pings.buffer import buffer_learn
from healthchecks.pings.models import Check
Check.objects.bulk_create(
    [Check(name=f"job {i:05d}", period_seconds=3600, grace_seconds=3600) for i in range(%d)],
    batch_size=2000,
)
keys = list(Check.objects.order_by("pk").values_list("ping_key", flat=True))
buffer_learn(keys)
for key in keys:
    print(key)
"""
COUNT_PINGS = """
import time
from healthchecks.pings.buffer import buffered_count, flush_pings
from healthchecks.pings.models import Check, Ping
left, started = buffered_count(), time.monotonic()
while buffered_count():
    flush_pings()
print(Ping.objects.count(), Check.objects.filter(state="up").count(), left, time.monotonic() - started)
"""
BUFFERED = """
from healthchecks.pings.buffer import buffered_count
print(buffered_count())
"""


def tree_cpu(pid: int) -> float:
    """CPU seconds used so far by a process and its children (the server and its workers)."""
    import psutil

    try:
        parent = psutil.Process(pid)
        return sum(sum(p.cpu_times()[:2]) for p in [parent, *parent.children(recursive=True)])
    except psutil.NoSuchProcess:
        return 0.0


def wrk(url: str, seconds: int, connections: int, server_pid: int, script: Path | None) -> dict:
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = tree_cpu(server_pid)
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if script:
        command += ["-s", str(script)]
    out = subprocess.run([*command, url], capture_output=True, text=True, timeout=seconds + 30).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if "Requests/sec" not in out or " 0 requests in" in out:
        print(f"  wrk completed nothing at {url}:\n{out}")
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p99": float(p99.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)],
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "bad": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
        "server_cpu": tree_cpu(server_pid) - server_before,
        "client_cpu": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
    }


def record_worker(options, master_pid: int, url: str, script: Path) -> None:
    """py-spy on one worker while wrk sends it pings: where a ping's time goes (not measured)."""
    import psutil

    worker = psutil.Process(master_pid).children()[0].pid
    seconds = max(3, options.seconds // ROUNDS)
    spy = shutil.which("py-spy") or str(Path(PYTHON).parent / "py-spy")
    recorder = subprocess.Popen(
        [spy, "record", "--pid", str(worker), "--duration", str(seconds + 1), "--rate", "200",
         "--format", "raw", "--output", str(options.py_spy), "--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(0.5)
    wrk(url, seconds, options.connections, master_pid, script)
    recorder.wait(timeout=seconds + 30)
    print(f"py-spy: collapsed stacks of worker {worker} in {options.py_spy}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=15, help="per variant, split over 3 rounds")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--conn-max-age", type=int, default=60, help="CONN_MAX_AGE for the web server")
    parser.add_argument(
        "--py-spy",
        metavar="PATH",
        type=Path,
        help="also record one web worker with py-spy (collapsed stacks) during a spread round",
    )
    options = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install -y wrk")
        return 1

    work = Path(tempfile.mkdtemp(prefix="vigil-bench-pings-"))
    (work / "ping_bench_settings.py").write_text(BENCH_SETTINGS)
    (work / "ping_bench_urls.py").write_text(BENCH_URLS)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(work), str(ROOT), os.environ.get("PYTHONPATH")])),
        "DJANGO_SETTINGS_MODULE": "ping_bench_settings",
        "VIGIL_DATA_DIR": str(work / "data"),
        "DATABASE_URL": DATABASE,
        "REDIS_URL": REDIS,
        # The worker that applies the buffered pings runs beside the web server, on the same cores.
        "CELERY_BROKER_URL": BROKER,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "LOG_LEVEL": "WARNING",
        # Count every ping as from another machine, never reaching the limit.
        "THROTTLE_EXEMPT_IPS": "192.0.2.1",
        "PING_THROTTLE_PER_MINUTE": os.environ.get("BENCH_PING_THROTTLE", str(10**9)),
        "CONN_MAX_AGE": str(options.conn_max_age),
    }
    (work / "data").mkdir()
    recreate_database()
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(["redis-cli", "-u", REDIS, "flushdb"], check=False, capture_output=True)
    keys = django_run(env, SEED % options.checks).split()
    (work / "keys.txt").write_text("\n".join(keys) + "\n")
    spread_script = work / "spread.lua"
    spread_script.write_text(SPREAD_SCRIPT % {"keys": work / "keys.txt"})

    port = free_port()
    web = subprocess.Popen(
        [PYTHON, "-m", "config.web"],
        cwd=ROOT,
        env={**env, "VIGIL_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2", "ACCESS_LOG": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    subprocess.run(["redis-cli", "-u", BROKER, "flushdb"], check=False, capture_output=True)
    worker = subprocess.Popen(
        [PYTHON, "-m", "celery", "-A", "config", "worker", "--loglevel", "WARNING", "--concurrency", "1",
         "--without-gossip", "--without-mingle", "--queues", "celery"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    variants = {
        "bare Django view": (f"{base}/bench/bare", None),
        f"pings over {len(keys):,} checks": (base + "/", spread_script),
        "pings all on one check": (f"{base}/ping/{keys[0]}", None),
    }
    runs: dict[str, list[dict]] = {name: [] for name in variants}
    try:
        deadline = time.monotonic() + 120  # a loaded machine takes its time to import Django
        while True:
            try:
                urllib.request.urlopen(f"{base}/bench/bare", timeout=5).read()
                break
            except OSError:
                if time.monotonic() > deadline or web.poll() is not None:
                    raise SystemExit("the web server did not answer within 120 s") from None
                time.sleep(0.2)
        for url, script in variants.values():  # warm: connections, caches, imports
            wrk(url, 2, options.connections, web.pid, script)
        if options.py_spy:
            record_worker(options, web.pid, *variants[f"pings over {len(keys):,} checks"])
        for _ in range(ROUNDS):
            for name, (url, script) in variants.items():
                seconds = max(1, options.seconds // ROUNDS)
                runs[name].append(wrk(url, seconds, options.connections, web.pid, script))
        backlog = int(django_run(env, BUFFERED))
        worker_cpu = tree_cpu(worker.pid)
    finally:
        for process in (web, worker):
            process.send_signal(signal.SIGTERM)
        for process in (web, worker):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
    stored, up, left, drain_seconds = django_run(env, COUNT_PINGS).split()
    stored, up, left, drain_seconds = int(stored), int(up), int(left), float(drain_seconds)
    shutil.rmtree(work, ignore_errors=True)

    results = {}
    for name, figures in runs.items():
        requests = max(1, sum(run["requests"] for run in figures))
        results[name] = {
            "rps": sum(run["rps"] for run in figures) / len(figures),
            "p99": sorted(run["p99"] for run in figures)[len(figures) // 2],
            "server_us": sum(run["server_cpu"] for run in figures) / requests * 1e6,
            "client_us": sum(run["client_cpu"] for run in figures) / requests * 1e6,
            "bad": sum(run["bad"] for run in figures),
            "socket_errors": "; ".join(run["socket_errors"] for run in figures if run["socket_errors"]),
        }
    bare = results["bare Django view"]
    print(
        f"\nPing intake: python -m config.web (granian, 2 workers), CONN_MAX_AGE={options.conn_max_age}, "
        f"wrk 2 threads, {options.connections} connections, {options.seconds} s each in {ROUNDS} "
        "interleaved rounds (mean req/s, median p99), "
        f"on {os.cpu_count()} cores"
    )
    print(f"{'':<28}{'req/s':>10}{'p99 ms':>10}{'vs bare':>10}{'server µs/req':>15}{'wrk µs/req':>12}")
    for name, r in results.items():
        print(
            f"{name:<28}{r['rps']:>10.0f}{r['p99']:>10.1f}{r['rps'] / bare['rps']:>10.0%}"
            f"{r['server_us']:>15.0f}{r['client_us']:>12.0f}"
        )
        if r["bad"] or r["socket_errors"]:
            print(f"  warning: {r['bad']} non-2xx answers; socket errors: {r['socket_errors'] or 'none'}")
    sent = sum(
        run["requests"] for name, figures in runs.items() if name != "bare Django view" for run in figures
    )
    print(
        f"stored pings: {stored:,} (wrk completed {sent:,} ping requests in the measured rounds, plus the "
        f"warm-up); checks up: {up:,} of {len(keys):,}"
    )
    print(
        f"ping buffer: {backlog:,} pings waiting when the load stopped ({left:,} when the worker stopped, "
        f"flushed afterwards in {drain_seconds:.1f} s); the flushing worker used {worker_cpu:.1f} s CPU "
        f"in all, {worker_cpu / max(1, stored) * 1e6:.0f} µs per stored ping"
    )
    spread = results[f"pings over {len(keys):,} checks"]
    one = results["pings all on one check"]
    load = f"load average {os.getloadavg()[0]:.1f}"
    emit(
        "ping_intake",
        f"ping intake, {len(keys):,} checks, {options.connections} connections",
        spread["rps"],
        "pings/s",
        baseline=(bare["rps"], "bare Django view, same server"),
        ratio_target=(">=", 0.6),
        note=f"server {spread['server_us']:.0f} µs CPU/ping, wrk {spread['client_us']:.0f} µs; {load}",
    )
    emit(
        "ping_intake",
        f"ping intake p99, {len(keys):,} checks",
        spread["p99"],
        "ms",
        baseline=(bare["p99"], "bare view's p99"),
        note=f"median of {ROUNDS} rounds' p99",
    )
    emit(
        "ping_intake",
        "ping intake, all on one check (row lock)",
        one["rps"],
        "pings/s",
        baseline=(bare["rps"], "bare Django view, same server"),
        note=f"p99 {one['p99']:.1f} ms",
    )
    bad = sum(r["bad"] for r in results.values())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
