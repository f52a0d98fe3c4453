"""Built-in collection (the collect_metrics job and command): one sample of this host.

Rates (network bytes/s, CPU %) come from counter deltas between two runs. The previous counters
are kept in the shared cache under this host's name, because each run may land in a different
worker process; a miss (first run, cache flushed or down) skips that rate for one interval
instead of reporting the counter since boot. A counter that went backwards (reboot, wrap) also
skips one interval.
"""

import logging
import os
import socket
import time
from datetime import datetime

import psutil
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from core.infrastructure import database_details, queue_depth
from monitoring.models import Metric, MetricCategory, MetricType
from monitoring.writer import metrics_write

logger = logging.getLogger(__name__)

MAX_MOUNTS = 20
# Pseudo and read-only image file systems say nothing about free space.
SKIPPED_FS_TYPES = {"squashfs", "tmpfs", "devtmpfs", "overlay", "proc", "sysfs", "iso9660", "nsfs"}
COUNTERS_TIMEOUT = 3600


def _point(name: str, value: float, metric_type: str, category: str, unit: str, **extra) -> dict:
    return {
        "name": name,
        "value": float(value),
        "metric_type": metric_type,
        "category": category,
        "unit": unit,
        **extra,
    }


def _counters_key(host: str) -> str:
    return f"monitoring:counters:{host}"


def _rates(host: str, now: float) -> list[dict]:
    net = psutil.net_io_counters()
    cpu = psutil.cpu_times()
    current = {
        "at": now,
        "rx": net.bytes_recv,
        "tx": net.bytes_sent,
        "cpu_total": sum(cpu),
        "cpu_idle": cpu.idle + getattr(cpu, "iowait", 0.0),
    }
    previous = cache.get(_counters_key(host))
    cache.set(_counters_key(host), current, timeout=COUNTERS_TIMEOUT)
    points = []
    if isinstance(previous, dict) and now > previous.get("at", now):
        elapsed = now - previous["at"]
        rx, tx = current["rx"] - previous["rx"], current["tx"] - previous["tx"]
        if rx >= 0 and tx >= 0:
            points += [
                _point(
                    "network.receive_rate", rx / elapsed, MetricType.NETWORK, MetricCategory.NETWORK_IO, "B/s"
                ),
                _point(
                    "network.transmit_rate",
                    tx / elapsed,
                    MetricType.NETWORK,
                    MetricCategory.NETWORK_IO,
                    "B/s",
                ),
            ]
        total = current["cpu_total"] - previous["cpu_total"]
        idle = current["cpu_idle"] - previous["cpu_idle"]
        if total > 0 and 0 <= idle <= total:
            points.append(_cpu_point(100.0 * (total - idle) / total))
    if not any(p["name"] == "system.cpu_percent" for p in points):
        # No usable previous sample: measure CPU over a short window instead of skipping it.
        points.append(_cpu_point(psutil.cpu_percent(interval=0.2)))
    return points


def _cpu_point(percent: float) -> dict:
    return _point("system.cpu_percent", round(percent, 2), MetricType.SYSTEM, MetricCategory.CPU_USAGE, "%")


def _system() -> list[dict]:
    memory, swap = psutil.virtual_memory(), psutil.swap_memory()
    load_1, load_5, load_15 = os.getloadavg()
    points = [
        _point("system.load_1m", load_1, MetricType.SYSTEM, MetricCategory.LOAD_AVERAGE, ""),
        _point("system.load_5m", load_5, MetricType.SYSTEM, MetricCategory.LOAD_AVERAGE, ""),
        _point("system.load_15m", load_15, MetricType.SYSTEM, MetricCategory.LOAD_AVERAGE, ""),
        _point("system.memory_percent", memory.percent, MetricType.SYSTEM, MetricCategory.MEMORY_USAGE, "%"),
        _point(
            "system.memory_used",
            memory.total - memory.available,
            MetricType.SYSTEM,
            MetricCategory.MEMORY_USAGE,
            "B",
        ),
        _point("system.swap_percent", swap.percent, MetricType.SYSTEM, MetricCategory.SWAP_USAGE, "%"),
        _point(
            "process.memory_rss",
            psutil.Process().memory_info().rss,
            MetricType.APPLICATION,
            MetricCategory.MEMORY_USAGE,
            "B",
            tags={"process": "collector"},
        ),
    ]
    seen = set()
    for partition in psutil.disk_partitions(all=False):
        if partition.fstype in SKIPPED_FS_TYPES or partition.mountpoint in seen or len(seen) >= MAX_MOUNTS:
            continue
        try:
            usage = psutil.disk_usage(partition.mountpoint)
        except OSError:  # unmounted meanwhile, or no permission
            continue
        seen.add(partition.mountpoint)
        points.append(
            _point(
                "system.disk_percent",
                usage.percent,
                MetricType.SYSTEM,
                MetricCategory.DISK_USAGE,
                "%",
                tags={"mount": partition.mountpoint},
            )
        )
    if not seen:  # a container whose only file system is an overlay: report the data directory's
        from django.conf import settings

        usage = psutil.disk_usage(str(settings.DATA_DIR))
        points.append(
            _point(
                "system.disk_percent",
                usage.percent,
                MetricType.SYSTEM,
                MetricCategory.DISK_USAGE,
                "%",
                tags={"mount": str(settings.DATA_DIR)},
            )
        )
    return points


def _database() -> list[dict]:
    details = database_details()
    points = [
        _point(
            "database.round_trip",
            details["round_trip_ms"],
            MetricType.DATABASE,
            MetricCategory.RESPONSE_TIME,
            "ms",
            tags={"vendor": connection.vendor},
        ),
    ]
    if details["open_connections"] is not None:
        points.append(
            _point(
                "database.connections",
                details["open_connections"],
                MetricType.DATABASE,
                MetricCategory.CONNECTIONS,
                "",
            )
        )
    return points


def _queue() -> list[dict]:
    return [
        _point(
            "celery.queue_depth",
            queue_depth(),
            MetricType.APPLICATION,
            MetricCategory.QUEUE_DEPTH,
            "messages",
            tags={"queue": "celery"},
        )
    ]


def metrics_sample(*, host: str | None = None) -> list[dict]:
    """One reading of every built-in metric, as point dicts. A source that fails (broker
    down) is logged and left out; the others are still reported."""
    host = host or socket.gethostname()
    points: list[dict] = []
    for part in (lambda: _rates(host, time.time()), _system, _database, _queue):
        try:
            points += part()
        except Exception as exc:
            logger.warning("metric collection: %s failed: %s", getattr(part, "__name__", "rates"), exc)
    return points


def metrics_collect(*, now: datetime | None = None, host: str | None = None) -> list[Metric]:
    host = host or socket.gethostname()
    now = now or timezone.now()
    rows = [Metric(source=host, timestamp=now, **point) for point in metrics_sample(host=host)]
    metrics_write(rows)
    return rows
