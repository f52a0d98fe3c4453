#!/usr/bin/env python3
"""Status page under a surge: home page and summary.json beside a bare Django JSON view.

    .venv/bin/python bench/statuspage_surge.py [--seconds 15] [--connections 50]

Serves Vigil on loopback in service mode (PostgreSQL database `vigil_bench_status`, Redis db 7
as the cache), seeded with the demo company, and drives it with wrk (Debian package `wrk`) with
Accept-Encoding: gzip, as browsers send it. Two servers run side by side on the same code and
data, their rounds interleaved: the Procfile's (granian, `python -m config.web`) and the gunicorn
gevent line it replaced, the baseline of the ratio targets (BENCH_WORKERS sets the workers of
each). A bare Django JSON view goes through the same middleware and server, so its ratio shows
what the status page costs over Django itself.
Targets: home page and summary.json at >= 3x the gunicorn line's req/s with p99 < 15 ms; the live
document at >= 70 % of the bare view; the uncompressed home page no bigger after a year of older
incidents. Everything it starts is stopped by its process group.

wrk and the servers share the machine's cores, so the req/s figures move with any other load. The
benchmark therefore also prints the CPU time one request costs inside Django (the WSGI handler
called in a loop in one process, no sockets): a figure other processes' load hardly moves.
`--profile PATH` prints a cProfile of that loop for one path (e.g. `--profile /`) and stops.
"""

import argparse
import contextlib
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
PRODUCTION = "granian (Procfile)"
BEFORE = "gunicorn gevent (before)"
SERVERS = (PRODUCTION, BEFORE)


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


def tree_cpu(pid: int) -> float:
    """CPU seconds used so far by a process and its children (gunicorn's master and workers)."""
    import psutil

    try:
        parent = psutil.Process(pid)
        total = 0.0
        for proc in [parent, *parent.children(recursive=True)]:
            times = proc.cpu_times()
            total += times.user + times.system
        return total
    except psutil.NoSuchProcess:
        return 0.0


def wrk(url: str, seconds: int, connections: int, server_pid: int, headers: tuple[str, ...] = ()) -> dict:
    """One wrk run: req/s, p99 (ms), and the CPU the server and wrk itself spent per request."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = tree_cpu(server_pid)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
        + [*HEADERS, *headers, url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
    ).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    factor = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        print(f"  warning: {errors.group(1)} non-2xx responses from {url}")
    return {
        "rps": rps,
        "p99": float(p99.group(1)) * factor,
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "server_cpu": tree_cpu(server_pid) - server_before,
        "client_cpu": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
    }


def start_server(name: str, env: dict, workers: int) -> tuple[subprocess.Popen, str]:
    """The Procfile's web server, or the gunicorn line it replaced, on a free loopback port; access
    logs on (and thrown away) for both, as production runs them."""
    port = free_port()
    if name == PRODUCTION:
        command = [PYTHON, "-m", "config.web"]
        env = {**env, "VIGIL_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers)}
    else:
        command = [
            PYTHON, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "--worker-class", "gevent", "--worker-connections", "1000",
            "--backlog", "2048", "--log-level", "warning", "--access-logfile", "-",
        ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, start_new_session=True)
    return process, f"http://127.0.0.1:{port}"


def wait_for(base: str, process: subprocess.Popen) -> None:
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{base}/bench/bare", timeout=1).read()
            return
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"the web server behind {base} exited with {process.returncode}") from None
            time.sleep(0.1)
    raise SystemExit(f"the web server behind {base} did not answer")


def stop(process: subprocess.Popen) -> None:
    """Stopped by its process group: the server and its workers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


HISTORY_CODE = """
import json, django
django.setup()
from datetime import timedelta
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from statuspage.models import Component
from statuspage.queries import PAST_DAYS_ON_HOME
from statuspage.services import incident_create

def size():
    cache.clear()
    return len(Client(HTTP_HOST="127.0.0.1").get("/").content)

before = size()
components = list(Component.objects.all()[:3])
now = timezone.now()
for day in range(PAST_DAYS_ON_HOME + 1, 366):
    started = now - timedelta(days=day)
    incident_create(
        title=f"Old incident {day}", message="Resolved long ago.", status="resolved",
        components={c: "major_outage" for c in components}, notify=False, started_at=started,
    )
print(json.dumps({"before": before, "after": size()}))
"""


def size_after_history(env: dict) -> tuple[int, int]:
    """The home page's uncompressed size before and after a year of resolved incidents older
    than the page's own window, rendered in one process with the caches emptied."""
    import json

    done = subprocess.run(
        [PYTHON, "-c", HISTORY_CODE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0:
        raise SystemExit(f"history step failed: {done.stderr.strip()[-2000:]}")
    sizes = json.loads(done.stdout.strip().splitlines()[-1])
    return sizes["before"], sizes["after"]


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


# In-process CPU cost per request (run in a child process with the benchmark's environment).
CPU_PATHS = {
    "bare Django JSON view": ("/bench/bare", "127.0.0.1"),
    "home page": ("/", "127.0.0.1"),
    "summary.json": ("/api/v2/summary.json", "127.0.0.1"),
    # A visitor from outside: the public throttle counts it in the shared cache (Redis).
    "summary.json, counted visitor": ("/api/v2/summary.json", "203.0.113.7"),
}


def wsgi_loop(requests: int, profile_path: str | None) -> None:
    import io
    import json

    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler

    handler = WSGIHandler()
    statuses = set()

    def start_response(status, headers, exc_info=None):
        statuses.add(status)

    def call(path: str, client: str, through=handler) -> None:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_ACCEPT_ENCODING": "gzip, deflate, br",
            "REMOTE_ADDR": client,
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
        }
        response = through(environ, start_response)
        for _chunk in response:
            pass
        response.close()

    for path, client in CPU_PATHS.values():
        for _ in range(200):  # warm: render, fill the page cache, open connections
            call(path, client)
    if os.environ.get("BENCH_MIDDLEWARE_COSTS"):
        middleware_costs(requests, call)
    elif profile_path:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests):
            call(profile_path, "127.0.0.1")
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    else:
        variants = {
            name: (lambda path=path, client=client: call(path, client))
            for name, (path, client) in CPU_PATHS.items()
        }
        print(json.dumps(interleaved(variants, requests)))
    if statuses != {"200 OK"}:
        raise SystemExit(f"unexpected answers in the CPU loop: {statuses}")


def interleaved(variants: dict, requests: int, rounds: int = 5, best: bool = False) -> dict[str, float]:
    """µs of CPU per call of each variant, measured in interleaved rounds; the median round (or
    the best, for comparing variants: other processes' load only ever adds) is kept, so a
    neighbour's burst spoils one round rather than one variant's figure."""
    per_round = max(1, requests // rounds)
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, function in variants.items():
            cpu = time.process_time()
            for _ in range(per_round):
                function()
            samples[name].append((time.process_time() - cpu) / per_round * 1e6)
    return {
        name: min(values) if best else sorted(values)[len(values) // 2] for name, values in samples.items()
    }


def middleware_costs(requests: int, call) -> None:
    """What each middleware adds to a cached request: the same request through a handler built
    without it, against the full stack. Session, auth, audit and messages depend on each other
    and go as one group."""
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler

    full = list(settings.MIDDLEWARE)
    identity = {
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "config.audit.AuditMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
    }
    stacks = {"(full stack)": full, "(no middleware at all)": []}
    stacks.update({name: [m for m in full if m != name] for name in full if name not in identity})
    for group in (
        {"django.contrib.messages.middleware.MessageMiddleware"},
        {"config.audit.AuditMiddleware"},
        {"django.contrib.auth.middleware.AuthenticationMiddleware", "config.audit.AuditMiddleware"},
        identity,
    ):
        stacks[" + ".join(sorted(name.rsplit(".", 1)[1] for name in group))] = [
            m for m in full if m not in group
        ]
    handlers = {}
    for name, middleware in stacks.items():
        settings.MIDDLEWARE = middleware
        handlers[name] = WSGIHandler()
    settings.MIDDLEWARE = full
    for label, path in (
        ("bare view", "/bench/bare"),
        ("home page", "/"),
        ("summary.json", "/api/v2/summary.json"),
    ):
        variants = {
            name: (lambda through=through, path=path: call(path, "127.0.0.1", through))
            for name, through in handlers.items()
        }
        for function in variants.values():
            for _ in range(100):
                function()
        costs = interleaved(variants, requests, rounds=20, best=True)
        whole = costs.pop("(full stack)")
        print(f"{label} ({path}): {whole:.0f} µs CPU per request with the full stack; each middleware adds:")
        for name, without in costs.items():
            print(f"  {name:<58} {whole - without:>6.0f} µs")
    from django.urls import resolve

    resolving = {
        path: (lambda path=path: resolve(path)) for path in ("/bench/bare", "/", "/api/v2/summary.json")
    }
    for path, micros in interleaved(resolving, requests * 4, rounds=20, best=True).items():
        print(f"resolving {path}: {micros:.1f} µs")


def cpu_per_request(env: dict, requests: int) -> dict[str, float]:
    import json

    done = subprocess.run(
        [PYTHON, __file__, "--cpu-child", str(requests)],
        cwd=ROOT,
        env={**env, "PUBLIC_API_THROTTLE_PER_MINUTE": str(10**9)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise SystemExit(f"CPU loop failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--seconds", type=int, default=30, help="per endpoint, split over 3 interleaved rounds"
    )
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("BENCH_WORKERS", "2")))
    parser.add_argument("--cpu-requests", type=int, default=5000, help="per path, in-process CPU loop")
    parser.add_argument(
        "--profile", metavar="PATH", help="print a cProfile of PATH's cached requests and stop"
    )
    parser.add_argument(
        "--middleware-costs", action="store_true", help="print what each middleware adds per cached request"
    )
    parser.add_argument("--cpu-only", action="store_true", help="only the in-process CPU figures (no wrk)")
    parser.add_argument("--cpu-child", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.cpu_child:
        wsgi_loop(options.cpu_child, os.environ.get("BENCH_PROFILE_PATH"))
        return 0
    investigating = options.profile or options.middleware_costs or options.cpu_only
    if not shutil.which("wrk") and not investigating:
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
    if options.cpu_only:
        try:
            cpu = cpu_per_request(env, options.cpu_requests)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        for name, micros in cpu.items():
            print(f"  {name:<32}{micros:>8.0f} µs CPU per request")
        return 0
    if investigating:
        extra = {
            "BENCH_PROFILE_PATH": options.profile or "",
            "BENCH_MIDDLEWARE_COSTS": "1" * options.middleware_costs,
        }
        subprocess.run(
            [PYTHON, __file__, "--cpu-child", str(options.cpu_requests)],
            cwd=ROOT,
            env={**env, **extra, "PUBLIC_API_THROTTLE_PER_MINUTE": str(10**9)},
            check=True,
        )
        shutil.rmtree(work, ignore_errors=True)
        return 0

    servers = {name: start_server(name, env, options.workers) for name in SERVERS}
    results: dict[tuple[str, str], tuple[float, float]] = {}
    cpu_split: dict[tuple[str, str], tuple[float, float]] = {}
    try:
        urls = {}
        for name, (process, base) in servers.items():
            wait_for(base, process)
            # An open page polls the live document with the version it shows: a 304 while nothing
            # changes, which is what a surge of open pages costs between two changes.
            etag = urllib.request.urlopen(f"{base}/api/status/live", timeout=5).headers["ETag"]
            paths = {
                "bare Django JSON view": ("/bench/bare", ()),
                "home page": ("/", ()),
                "summary.json": ("/api/v2/summary.json", ()),
                "live document, 304": ("/api/status/live", ("-H", f"If-None-Match: {etag}")),
                "live document, 200": ("/api/status/live", ()),
            }
            if name != PRODUCTION:  # the server it replaced: what the ratio targets compare against
                paths = {key: paths[key] for key in ("bare Django JSON view", "home page", "summary.json")}
            for endpoint, (path, headers) in paths.items():
                urls[name, endpoint] = (process.pid, base + path, headers)
        for pid, url, headers in urls.values():
            wrk(url, 2, options.connections, pid, headers)  # warm caches and connections
        # Interleaved rounds (both servers, every endpoint), so a neighbour's load on a shared
        # machine hits them all alike.
        runs: dict[tuple[str, str], list[dict]] = {key: [] for key in urls}
        for _ in range(ROUNDS):
            for key, (pid, url, headers) in urls.items():
                seconds = max(1, options.seconds // ROUNDS)
                runs[key].append(wrk(url, seconds, options.connections, pid, headers))
        for key, figures in runs.items():
            rates = [run["rps"] for run in figures]
            tails = sorted(run["p99"] for run in figures)
            results[key] = (sum(rates) / len(rates), tails[len(tails) // 2])
            requests = sum(run["requests"] for run in figures)
            cpu_split[key] = (
                sum(run["server_cpu"] for run in figures) / requests * 1e6,
                sum(run["client_cpu"] for run in figures) / requests * 1e6,
            )
        base = servers[PRODUCTION][1]
        home_size = len(urllib.request.urlopen(f"{base}/").read())
        gzip_request = urllib.request.Request(f"{base}/", headers={"Accept-Encoding": "gzip"})
        home_gzip_size = len(urllib.request.urlopen(gzip_request).read())
        cache_cost = redis_call_cost(env)
    finally:
        for process, _ in servers.values():
            stop(process)
    # After the servers have stopped, so the loop has the machine to itself (as far as this run goes).
    try:
        cpu = cpu_per_request(env, options.cpu_requests)
        home_size_before, home_size_after = size_after_history(env)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    load = f"load average {os.getloadavg()[0]:.1f}"
    print(
        f"\nStatus page surge: {options.workers} workers per server, wrk 2 threads, {options.connections} "
        f"connections, {options.seconds} s each in {ROUNDS} interleaved rounds (mean req/s, median p99), "
        f"on {os.cpu_count()} cores; {load}"
    )
    columns = f"{'req/s':>10}{'p99 ms':>10}{'vs bare':>10}{'server µs/req':>15}{'wrk µs/req':>12}"
    print(f"{'server':<26}{'endpoint':<24}{columns}")
    for (server, name), (rps, p99) in results.items():
        bare = results[server, "bare Django JSON view"][0]
        cpu_server, cpu_client = cpu_split[server, name]
        print(
            f"{server:<26}{name:<24}{rps:>10.0f}{p99:>10.1f}{rps / bare:>10.0%}"
            f"{cpu_server:>15.0f}{cpu_client:>12.0f}"
        )
    print(
        "(server = CPU of the server's processes per request, Django included; wrk = wrk's own. Two "
        "cores carry at most 2 s / (server + wrk) requests a second; by Little's law 50 connections "
        "then wait at least 50 / that rate on average.)"
    )
    print(f"home page: {home_size / 1024:.0f} KiB uncompressed, {home_gzip_size / 1024:.1f} KiB gzipped")
    print(
        f"home page after a year of older incidents: {home_size_after / 1024:.0f} KiB "
        f"(before: {home_size_before / 1024:.0f} KiB, rendered in-process)"
    )
    print("shared cache cost:", cache_cost)
    print(
        f"CPU per request inside Django (one process, {options.cpu_requests:,} requests, median of 5 rounds):"
    )
    for name, micros in cpu.items():
        print(f"  {name:<32}{micros:>8.0f} µs")

    for name in ("home page", "summary.json"):
        rps, p99 = results[PRODUCTION, name]
        emit(
            "statuspage_surge",
            f"status page {name}, {options.connections} connections, gzip: req/s",
            rps,
            "req/s",
            baseline=(results[BEFORE, name][0], f"the same under {BEFORE}"),
            ratio_target=(">=", 3.0),
            note=f"{PRODUCTION}, {options.workers} workers; wrk on the same cores; {load}",
        )
        emit(
            "statuspage_surge",
            f"status page {name}, {options.connections} connections, gzip: p99",
            p99,
            "ms",
            target=("<", 15),
            baseline=(results[BEFORE, name][1], f"p99 under {BEFORE}"),
            note=f"median of {ROUNDS} rounds' p99",
        )
    bare_rps, bare_p99 = results[PRODUCTION, "bare Django JSON view"]
    for name in ("live document, 304", "live document, 200"):
        rps, p99 = results[PRODUCTION, name]
        emit(
            "statuspage_surge",
            f"status page {name}, {options.connections} connections: req/s",
            rps,
            "req/s",
            baseline=(bare_rps, "bare Django JSON view"),
            ratio_target=(">=", 0.70),
            note=f"{PRODUCTION}; {load}",
        )
        emit(
            "statuspage_surge",
            f"status page {name}, {options.connections} connections: p99",
            p99,
            "ms",
            target=("<", 15),
            baseline=(bare_p99, "bare view's p99"),
            note=f"median of {ROUNDS} rounds' p99",
        )
    emit(
        "statuspage_surge",
        "home page size, uncompressed",
        home_size / 1024,
        "KiB",
        note=f"the demo's components; {home_gzip_size / 1024:.1f} KiB gzipped",
    )
    emit(
        "statuspage_surge",
        "home page size after a year of older incidents",
        home_size_after / 1024,
        "KiB",
        baseline=(home_size_before / 1024, "before them"),
        ratio_target=("<=", 1.0),
        note="resolved incidents on each day from the page's window back to a year",
    )
    for name in ("home page", "summary.json", "summary.json, counted visitor"):
        emit(
            "statuspage_surge",
            f"status page {name}: CPU per cached request in-process",
            cpu[name],
            "µs",
            baseline=(cpu["bare Django JSON view"], "bare Django JSON view"),
            note="WSGI handler in a loop, no sockets; median of 5 rounds",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
