"""Request timing: response time and errors per (method, route pattern, status class).

The middleware only updates an in-memory aggregate under a lock: no database or cache write on
the request path. A daemon thread in each web process flushes the aggregate every
METRIC_COLLECTION_INTERVAL as one Metric row per key (value = mean ms; count, p95, max and
errors in the row's tags), plus one http.server.error_rate row (% of 5xx over all routes).
flush_request_timings() does the same on demand (tests, shutdown). The same thread flushes the
event counters of monitoring/counters.py.

The route is request.resolver_match.route (e.g. "api/status/incidents/<int:pk>"), never the
raw path, whose cardinality is unbounded; URLs that match no route share UNMATCHED.

p95 comes from a reservoir of at most RESERVOIR_SIZE durations per key (Algorithm R): exact
while a key sees at most that many requests in an interval, a uniform sample beyond that, so
memory per key stays bounded under any load.
"""

import atexit
import logging
import os
import random
import socket
import sys
import threading
import time
from array import array
from dataclasses import dataclass, field

from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone

from monitoring.aggregates import percentile_cont
from monitoring.counters import flush_counters
from monitoring.models import Metric, MetricCategory, MetricType
from monitoring.writer import metrics_write

logger = logging.getLogger(__name__)
perf_counter = time.perf_counter

UNMATCHED = "<unmatched>"
RESERVOIR_SIZE = 1000
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
METRIC_NAME = "http.server.duration"
ERROR_RATE_METRIC = "http.server.error_rate"


@dataclass
class _Stats:
    count: int = 0
    total_ms: float = 0.0
    max_ms: float = 0.0
    errors: int = 0
    # array("d"): 8 bytes a sample instead of a float object's 32, so even a thousand busy
    # keys hold under 10 MB.
    samples: array = field(default_factory=lambda: array("d"))

    def add(self, ms: float, error: bool) -> None:
        self.count += 1
        self.total_ms += ms
        if ms > self.max_ms:
            self.max_ms = ms
        if error:
            self.errors += 1
        if len(self.samples) < RESERVOIR_SIZE:
            self.samples.append(ms)
        else:
            slot = random.randrange(self.count)
            if slot < RESERVOIR_SIZE:
                self.samples[slot] = ms


class TimingAggregator:
    def __init__(self):
        self._lock = threading.Lock()
        self._stats: dict[tuple[str, str, int], _Stats] = {}

    def record(self, method: str, route: str, status: int, ms: float) -> None:
        # The status class stays an int here (2 for 2xx): this runs on every request.
        key = (method, route, status // 100)
        with self._lock:
            stats = self._stats.get(key)
            if stats is None:
                stats = self._stats[key] = _Stats()
            stats.add(ms, status >= 500)

    def take(self) -> dict[tuple[str, str, int], _Stats]:
        """Hand over everything recorded so far and start afresh."""
        with self._lock:
            taken, self._stats = self._stats, {}
        return taken


aggregator = TimingAggregator()


def timing_rows(taken: dict[tuple[str, str, int], _Stats], *, source: str, now=None) -> list:
    now = now or timezone.now()
    rows = []
    for (method, route, status_class), stats in sorted(taken.items()):
        rows.append(
            Metric(
                metric_type=MetricType.PERFORMANCE,
                category=MetricCategory.RESPONSE_TIME,
                name=METRIC_NAME,
                value=round(stats.total_ms / stats.count, 3),
                unit="ms",
                source=source,
                endpoint=route[:200],
                tags={
                    "method": method,
                    "status_class": f"{status_class}xx",
                    "count": stats.count,
                    "errors": stats.errors,
                    "p95_ms": round(percentile_cont(stats.samples, 0.95), 3),
                    "max_ms": round(stats.max_ms, 3),
                },
                timestamp=now,
            )
        )
    requests = sum(stats.count for stats in taken.values())
    if requests:
        # The share of 5xx answers over all routes: what the default "High error rate" rule
        # watches (per-route rows alone cannot give the overall rate).
        errors = sum(stats.errors for stats in taken.values())
        rows.append(
            Metric(
                metric_type=MetricType.PERFORMANCE,
                category=MetricCategory.ERROR_RATE,
                name=ERROR_RATE_METRIC,
                value=round(100.0 * errors / requests, 3),
                unit="%",
                source=source,
                tags={"requests": requests, "errors": errors},
                timestamp=now,
            )
        )
    return rows


def flush_request_timings(*, now=None) -> int:
    """Write what the aggregator holds as one row per key; returns rows written. If the write
    fails (database down) the interval's figures are dropped and logged: request timing must
    never pile up memory or block requests while the database is away."""
    taken = aggregator.take()
    if not taken:
        return 0
    rows = timing_rows(taken, source=socket.gethostname(), now=now)
    try:
        metrics_write(rows)
    except Exception as exc:
        logger.warning("request timings for %d key(s) dropped: %s", len(rows), exc)
        return 0
    return len(rows)


class _Flusher:
    """One daemon thread per process (restarted in a forked child, whose threads did not survive)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._running = False  # a plain flag: checked on every request
        self._stop = threading.Event()
        self.thread: threading.Thread | None = None

    def forked(self) -> None:
        # A forked child (gunicorn worker after --preload) has no copy of the thread.
        self._running = False
        self._lock = threading.Lock()

    def ensure_running(self, interval: float) -> None:
        if self._running:
            return
        with self._lock:
            if self._running:
                return
            self._stop = threading.Event()
            self.thread = threading.Thread(
                target=self._run, args=(interval, self._stop), name="vigil-request-timing", daemon=True
            )
            self.thread.start()
            self._running = True

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread after one last flush (tests; a clean shutdown)."""
        self._stop.set()
        if self.thread is not None:
            self.thread.join(timeout)
        self._running = False

    def _run(self, interval: float, stop: threading.Event) -> None:
        while True:
            stopping = stop.wait(interval)
            try:
                close_old_connections()
                flush_request_timings()
                # The event counters (monitoring/counters.py) ride on the same thread and interval.
                flush_counters()
            except Exception:  # never let the thread die
                logger.exception("request timing flush failed")
            finally:
                if stopping:
                    connections.close_all()
                else:
                    close_old_connections()
            if stopping:
                return


flusher = _Flusher()
os.register_at_fork(after_in_child=flusher.forked)
atexit.register(lambda: flusher._running and flusher.stop())


class RequestTimingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        # The test suite flushes by hand (flush_request_timings): a background writer there
        # would insert rows into other tests' database at random moments.
        self.background = settings.REQUEST_TIMING_FLUSH_THREAD and "pytest" not in sys.modules
        self.interval = settings.METRIC_COLLECTION_INTERVAL

    def __call__(self, request):
        if self.background and not flusher._running:
            flusher.ensure_running(self.interval)
        started = perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            return response
        finally:
            elapsed_ms = (perf_counter() - started) * 1000.0
            match = request.resolver_match
            route = (match.route or UNMATCHED) if match is not None else UNMATCHED
            method = request.method
            aggregator.record(method if method in KNOWN_METHODS else "OTHER", route, status, elapsed_ms)
