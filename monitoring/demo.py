"""A day of demo metrics (one point per series per minute), then rollups, so charts have data."""

import math
import random
from datetime import timedelta

from django.utils import timezone

from monitoring.models import Metric, MetricCategory, MetricType
from monitoring.queries import floor_time
from monitoring.rollups import metrics_rollup_until_current

DEMO_SOURCE = "demo-web-1"
SERIES = [
    # name, type, category, unit, endpoint, baseline, daily swing, noise
    ("system.cpu_percent", MetricType.SYSTEM, MetricCategory.CPU_USAGE, "%", "", 35, 25, 8),
    ("system.memory_percent", MetricType.SYSTEM, MetricCategory.MEMORY_USAGE, "%", "", 62, 6, 2),
    ("system.disk_percent", MetricType.SYSTEM, MetricCategory.DISK_USAGE, "%", "", 71, 1, 0.2),
    (
        "network.receive_rate",
        MetricType.NETWORK,
        MetricCategory.NETWORK_IO,
        "B/s",
        "",
        400_000,
        300_000,
        80_000,
    ),
    ("database.round_trip", MetricType.DATABASE, MetricCategory.RESPONSE_TIME, "ms", "", 1.2, 0.5, 0.3),
    (
        "http.server.duration",
        MetricType.PERFORMANCE,
        MetricCategory.RESPONSE_TIME,
        "ms",
        "api/status",
        45,
        20,
        12,
    ),
    (
        "http.server.duration",
        MetricType.PERFORMANCE,
        MetricCategory.RESPONSE_TIME,
        "ms",
        "api/status/incidents/<int:pk>",
        80,
        30,
        25,
    ),
    ("shop.orders_per_minute", MetricType.BUSINESS, MetricCategory.THROUGHPUT, "orders", "", 30, 20, 5),
]


def seed_metrics() -> str:
    if Metric.objects.filter(source=DEMO_SOURCE).exists():
        return "monitoring: demo metrics already there"
    rng = random.Random(7)
    end = floor_time(timezone.now(), 60)
    rows = []
    for minute in range(24 * 60):
        at = end - timedelta(minutes=24 * 60 - minute)
        phase = math.sin(2 * math.pi * (at.hour * 60 + at.minute) / 1440 - math.pi / 2)
        for name, metric_type, category, unit, endpoint, base, swing, noise in SERIES:
            value = max(0.0, base + swing * phase + rng.gauss(0, noise))
            rows.append(
                Metric(
                    name=name,
                    metric_type=metric_type,
                    category=category,
                    unit=unit,
                    endpoint=endpoint,
                    source=DEMO_SOURCE,
                    value=round(value, 3),
                    timestamp=at,
                )
            )
    Metric.objects.bulk_create(rows, batch_size=2000)
    written = metrics_rollup_until_current()
    return (
        f"monitoring: {len(rows)} demo metric points over 24 h, "
        f"{written['minute']} minute and {written['hour']} hour rollups"
    )
