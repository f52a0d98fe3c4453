"""Middleware benchmark: requests/s of a trivial view (/health/live) with and without the
request-timing middleware, and the overhead in %.

    .venv/bin/python bench/metrics_middleware.py [--seconds 20]

Requests go through Django's WSGI handler in this process (no sockets, no server): the figure
isolates what the middleware adds, where an HTTP round trip's noise would hide a few percent.
Rounds alternate between the two stacks every few hundred requests, so machine load hits both
alike. Beside it, the middleware alone is timed around a view that does nothing (the cost no
other process's load can blur). Target: under 3 % overhead.
"""

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _report import emit

ROOT = Path(__file__).resolve().parent.parent
TIMING = "monitoring.timing.RequestTimingMiddleware"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0, help="total measuring time")
    parser.add_argument("--rounds", type=int, default=200, help="alternations of the two stacks")
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="vigil-bench-")
    (Path(data_dir) / "static").mkdir()
    os.environ.update(
        VIGIL_DATA_DIR=data_dir,
        DEBUG="0",
        SECRET_KEY="bench-" + "x" * 50,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        LOG_LEVEL="WARNING",
        METRIC_COLLECTION_INTERVAL="3600",  # the flush thread runs but never writes during the run
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler

    from monitoring.timing import aggregator

    with_mw = WSGIHandler()
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != TIMING]
    without_mw = WSGIHandler()

    def environ() -> dict:
        return {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/health/live",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
        }

    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    def run(handler, seconds: float) -> tuple[int, float]:
        # CPU time of this process, not wall time: other processes on a shared machine then
        # slow both stacks' figures less unevenly.
        count, started, cpu = 0, time.perf_counter(), time.process_time()
        deadline = started + seconds
        while time.perf_counter() < deadline:
            for _ in range(100):
                response = handler(environ(), start_response)
                response.close()
            count += 100
        return count, time.process_time() - cpu

    run(with_mw, 0.5)
    run(without_mw, 0.5)
    aggregator.take()
    totals = {"with": [0, 0.0], "without": [0, 0.0]}
    per_round = args.seconds / args.rounds / 2
    round_overheads = []
    for _ in range(args.rounds):
        rates = {}
        for label, handler in (("without", without_mw), ("with", with_mw)):
            count, elapsed = run(handler, per_round)
            totals[label][0] += count
            totals[label][1] += elapsed
            rates[label] = count / elapsed
        round_overheads.append((rates["without"] - rates["with"]) / rates["without"])
    assert set(statuses) == {"200 OK"}, set(statuses)
    recorded = aggregator.take()
    assert sum(s.count for s in recorded.values()) == totals["with"][0]  # every request was counted
    rate_with = totals["with"][0] / totals["with"][1]
    rate_without = totals["without"][0] / totals["without"][1]
    overhead = (rate_without - rate_with) / rate_without
    added_us = (1 / rate_with - 1 / rate_without) * 1e6
    print(f"trivial view /health/live through Django's WSGI handler, {args.rounds} alternating rounds")
    print(f"  without the middleware: {rate_without:>9,.0f} requests per CPU-second")
    print(f"  with the middleware   : {rate_with:>9,.0f} requests per CPU-second")
    alone_us = _middleware_alone_us()
    print(
        f"  overhead              : {overhead:>9.1%} overall, median of rounds "
        f"{statistics.median(round_overheads):.1%}   (target < 3 %)"
    )
    print(f"  added per request     : {added_us:>9.1f} µs of CPU")
    print(f"  the middleware alone  : {alone_us:>9.2f} µs a call, around a view that does nothing")
    print(f"  keys aggregated       : {sorted(recorded)}")
    emit(
        "metrics_middleware",
        "trivial view with the request-timing middleware",
        rate_with,
        "requests/CPU-s",
        baseline=(rate_without, "the same view without it"),
        ratio_target=(">", 0.97),  # under 3 % overhead
        note=f"overhead {overhead:.1%} ({added_us:.1f} µs CPU per request), median of rounds "
        f"{statistics.median(round_overheads):.1%}; the middleware alone {alone_us:.2f} µs a call; "
        "in-process WSGI, no I/O",
    )


def _middleware_alone_us(calls: int = 200_000) -> float:
    from django.http import HttpResponse
    from django.test import RequestFactory

    from monitoring.timing import RequestTimingMiddleware, aggregator

    response = HttpResponse("ok")
    request = RequestFactory().get("/health/live")

    def view(request):
        return response

    middleware = RequestTimingMiddleware(view)
    middleware.background = False
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for _ in range(calls):
            view(request)
        bare = time.process_time() - started
        started = time.process_time()
        for _ in range(calls):
            middleware(request)
        best = min(best, (time.process_time() - started - bare) / calls * 1e6)
    aggregator.take()
    return best


if __name__ == "__main__":
    main()
