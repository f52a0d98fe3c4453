"""Dependency checks behind the /health endpoints.

Every check runs in its own thread under one deadline (HEALTH_CHECK_TIMEOUT, 2 s at most), so
a dead dependency makes the endpoint answer 503 naming it within the deadline; it never hangs
the request and never raises. Database work in a check thread uses that thread's own
connection, which is closed when the check ends.
"""

import os
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import psutil
from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils.crypto import get_random_string
from django.utils.module_loading import import_string

from core.infrastructure import queue_depth
from healthchecks.models import Heartbeat
from healthchecks.services import heartbeat_ages

OK, DEGRADED, DOWN = "ok", "degraded", "down"
_CREDENTIALS = re.compile(r"(\w+://)[^@/\s]+@")


class Degraded(Exception):
    """Raised by a check whose dependency works but is not healthy (over a threshold, stale)."""

    def __init__(self, message: str, details: dict | None = None):
        super().__init__(message)
        self.details = details or {}


@dataclass
class CheckResult:
    status: str
    latency_ms: float
    error: str | None = None
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"status": self.status, "latency_ms": self.latency_ms, "error": self.error, **self.details}


def _scrub(message: str) -> str:
    return _CREDENTIALS.sub(r"\1***@", message)[:500]


def _timed(check: Callable[[], dict | None]) -> CheckResult:
    started = time.perf_counter()
    try:
        details = check() or {}
        status, error = OK, None
    except Degraded as exc:
        status, error, details = DEGRADED, str(exc), exc.details
    except Exception as exc:
        status, error, details = DOWN, _scrub(f"{type(exc).__name__}: {exc}".strip()), {}
    finally:
        connections.close_all()
    return CheckResult(status, round((time.perf_counter() - started) * 1000, 2), error, details)


def run_checks(
    checks: dict[str, Callable[[], dict | None]], timeout: float | None = None
) -> dict[str, CheckResult]:
    """Run the checks concurrently; one still running at the deadline is reported down."""
    timeout = timeout or settings.HEALTH_CHECK_TIMEOUT
    pool = ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="health")
    futures = {name: pool.submit(_timed, check) for name, check in checks.items()}
    wait(futures.values(), timeout=timeout)
    pool.shutdown(wait=False, cancel_futures=True)
    results = {}
    for name, future in futures.items():
        if future.done():
            results[name] = future.result()
        else:
            results[name] = CheckResult(DOWN, round(timeout * 1000, 2), f"timed out after {timeout:g} s")
    return results


# --- the checks -----------------------------------------------------------------------------


def database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {}


_migrations_applied = False


def migrations() -> dict:
    # Loading the migration graph costs tens of milliseconds; once everything is applied it
    # stays applied for this process's life (a new release means new processes).
    global _migrations_applied
    if not _migrations_applied:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:5])
            raise RuntimeError(f"{len(plan)} migration(s) not applied: {names}")
        _migrations_applied = True
    return {}


def cache_round_trip() -> dict:
    key = f"vigil:health:{get_random_string(12)}"
    cache.set(key, "1", timeout=10)
    value = cache.get(key)
    cache.delete(key)
    if value != "1":
        raise RuntimeError("cache did not return the value just written (unreachable?)")
    return {"backend": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]}


def broker() -> dict:
    return {"queue_depth": queue_depth()}


def heartbeats() -> dict:
    ages = heartbeat_ages()
    stale_after = 3 * settings.HEARTBEAT_INTERVAL
    details = {
        "beat_age_seconds": ages[Heartbeat.Kind.BEAT],
        "worker_age_seconds": ages[Heartbeat.Kind.WORKER],
        "stale_after_seconds": stale_after,
    }
    problems = [
        f"no {kind} heartbeat" if age is None else f"{kind} heartbeat is {age:g} s old"
        for kind, age in ages.items()
        if age is None or age > stale_after
    ]
    if problems:
        raise Degraded("; ".join(problems), details)
    return details


# psutil measures CPU use since its previous call: a process's first call (or one right after
# another request's) has nothing to compare with and reads 0.0. Such a reading is measured over
# CPU_SAMPLE_SECONDS instead; later ones cost nothing.
CPU_SAMPLE_SECONDS = 0.1
CPU_FRESH_AFTER_SECONDS = 0.5
_last_cpu_reading: float | None = None


def cpu_percent() -> float:
    global _last_cpu_reading
    now = time.monotonic()
    previous, _last_cpu_reading = _last_cpu_reading, now
    if previous is None or now - previous < CPU_FRESH_AFTER_SECONDS:
        return psutil.cpu_percent(interval=CPU_SAMPLE_SECONDS)
    return psutil.cpu_percent(interval=None)


def system() -> dict:
    memory = psutil.virtual_memory()
    disk = psutil.disk_usage(str(settings.DATA_DIR))
    load_1, load_5, load_15 = os.getloadavg()
    readings = {
        "cpu_percent": cpu_percent(),
        "memory_percent": memory.percent,
        "disk_percent": disk.percent,
    }
    # Staff change thresholds at run time (the operations config); the setting names the
    # function that reads them, so this app does not import the console's code.
    thresholds = import_string(settings.SYSTEM_THRESHOLDS_FUNCTION)()
    details = {
        **readings,
        "load_average": [round(load_1, 2), round(load_5, 2), round(load_15, 2)],
        "cpu_count": psutil.cpu_count(),
        "thresholds": thresholds,
    }
    over = [
        f"{name} {readings[name]:g} > {limit:g}"
        for name, limit in thresholds.items()
        if readings[name] > limit
    ]
    if over:
        raise Degraded("over threshold: " + ", ".join(over), details)
    return details
