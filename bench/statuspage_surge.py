#!/usr/bin/env python3
"""Status page under a surge: home page and summary.json beside a bare Django JSON view.

    .venv/bin/python bench/statuspage_surge.py [--seconds 15] [--connections 50]

Serves Vigil with gunicorn on loopback in service mode (PostgreSQL database `vigil_bench_status`,
Redis db 7 as the cache), seeded with the demo company, and drives it with wrk (Debian package
`wrk`). The bare view goes through the same middleware and gunicorn, so the ratio shows what the
status page costs over Django itself. Also prints the cost of one Django Redis cache call, the
figure behind the per-process cache layer. Everything it starts is stopped by process id.
Target (issue 6): home and summary at ≥70 % of the bare view's requests/s, p99 < 30 ms.
Workers default to the Procfile's (gthread, 4 threads); BENCH_WORKERS and BENCH_WORKER_ARGS
(e.g. "--worker-class sync") change them. Clients send Accept-Encoding: gzip, as browsers do.
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

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DATABASE = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/vigil_bench_status")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")

BENCH_SETTINGS = """
from config.settings import *  # noqa: F401,F403

ROOT_URLCONF = "statuspage_bench_urls"
"""
BENCH_URLS = """
from django.http import JsonResponse
from django.urls import include, path


def bare(request):
    return JsonResponse({"status": {"indicator": "none", "description": "All Systems Operational"}})


urlpatterns = [path("bench/bare", bare), path("", include("config.urls"))]
"""


# What a browser sends; the status page answers with its pre-compressed copy.
HEADERS = ["-H", "Accept-Encoding: gzip, deflate, br"]


ROUNDS = 3
WORKER_ARGS = os.environ.get("BENCH_WORKER_ARGS", "--worker-class gthread --threads 4").split()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict, *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def recreate_database() -> None:
    name = DATABASE.rsplit("/", 1)[1]
    admin = DATABASE.rsplit("/", 1)[0] + "/postgres"
    import psycopg

    with psycopg.connect(admin.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def wrk(url: str, seconds: int, connections: int) -> tuple[float, float]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s", *HEADERS, url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    factor = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        print(f"  warning: {errors.group(1)} non-2xx responses from {url}")
    return rps, float(p99.group(1)) * factor


def redis_call_cost(env: dict) -> str:
    code = (
        "import time, django; django.setup();"
        "from django.core.cache import cache; cache.set('bench', b'x'*100);"
        "n=3000; t=time.perf_counter();\n"
        "for _ in range(n): cache.get('bench')\n"
        "r=(time.perf_counter()-t)/n*1e6; d={'k': 1}; t=time.perf_counter();\n"
        "for _ in range(n): d.get('k')\n"
        "l=(time.perf_counter()-t)/n*1e6;"
        "print(f'{r:.0f} us per Django Redis cache.get, {l:.2f} us per dict lookup')"
    )
    done = subprocess.run([PYTHON, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    return done.stdout.strip() or f"not measured: {done.stderr.strip().splitlines()[-1:]}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--seconds", type=int, default=30, help="per endpoint, split over 3 interleaved rounds"
    )
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("BENCH_WORKERS", "2")))
    options = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install -y wrk")
        return 1

    work = Path(tempfile.mkdtemp(prefix="vigil-bench-status-"))
    (work / "statuspage_bench_settings.py").write_text(BENCH_SETTINGS)
    (work / "statuspage_bench_urls.py").write_text(BENCH_URLS)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(work), str(ROOT), os.environ.get("PYTHONPATH")])),
        "DJANGO_SETTINGS_MODULE": "statuspage_bench_settings",
        "VIGIL_DATA_DIR": str(work / "data"),
        "DATABASE_URL": DATABASE,
        "REDIS_URL": REDIS,
        "CELERY_BROKER_URL": "memory://",
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "LOG_LEVEL": "WARNING",
    }
    recreate_database()
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")
    manage(env, "seed_demo")
    subprocess.run(
        ["redis-cli", "-u", REDIS, "flushdb"],
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    port = free_port()
    gunicorn = subprocess.Popen(
        [
            PYTHON, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
            "--workers", str(options.workers), *WORKER_ARGS,
            "--backlog", "2048", "--log-level", "warning",
        ],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    results = {}
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/bench/bare", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        urls = {
            "bare Django JSON view": "/bench/bare",
            "home page": "/",
            "summary.json": "/api/v2/summary.json",
        }
        for path in urls.values():
            wrk(base + path, 2, options.connections)  # warm every worker's cache and connections
        # Interleaved rounds, so a neighbour's load on a shared machine hits all three alike.
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in urls}
        for _ in range(ROUNDS):
            for name, path in urls.items():
                runs[name].append(wrk(base + path, max(1, options.seconds // ROUNDS), options.connections))
        for name, figures in runs.items():
            rates = [rps for rps, _ in figures]
            tails = sorted(p99 for _, p99 in figures)
            results[name] = (sum(rates) / len(rates), tails[len(tails) // 2])
        home_size = len(urllib.request.urlopen(f"{base}/").read())
        cache_cost = redis_call_cost(env)
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        try:
            gunicorn.wait(timeout=15)
        except subprocess.TimeoutExpired:
            gunicorn.kill()
        shutil.rmtree(work, ignore_errors=True)

    bare_rps = results["bare Django JSON view"][0]
    print(
        f"\nStatus page surge: gunicorn {options.workers} workers {' '.join(WORKER_ARGS)}, wrk 2 threads, "
        f"{options.connections} connections, {options.seconds} s each in {ROUNDS} interleaved rounds "
        f"(mean req/s, median p99), on {os.cpu_count()} cores"
    )
    print(f"{'endpoint':<24}{'req/s':>10}{'p99 ms':>10}{'vs bare':>10}")
    for name, (rps, p99) in results.items():
        print(f"{name:<24}{rps:>10.0f}{p99:>10.1f}{rps / bare_rps:>10.0%}")
    print(f"home page size: {home_size / 1024:.0f} KiB")
    print("shared cache cost:", cache_cost)
    ok = all(
        rps >= 0.7 * bare_rps and p99 < 30
        for name, (rps, p99) in results.items()
        if name != "bare Django JSON view"
    )
    print("target (>=70 % of bare, p99 < 30 ms):", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
