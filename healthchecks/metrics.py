"""Health's Prometheus collectors: heartbeat ages, the queue depth and each health check's status."""

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily, Metric

from healthchecks import checks
from healthchecks.services import heartbeat_ages

HEALTH_LEVELS = (checks.OK, checks.DEGRADED, checks.DOWN)


def heartbeat_metrics() -> Iterable[Metric]:
    family = GaugeMetricFamily(
        "vigil_heartbeat_age_seconds", "Seconds since the freshest beat/worker heartbeat", labels=["kind"]
    )
    for kind, age in heartbeat_ages().items():
        if age is not None:
            family.add_metric([str(kind)], age)
    yield family


def queue_metrics() -> Iterable[Metric]:
    family = GaugeMetricFamily(
        "vigil_celery_queue_depth", "Messages waiting in the Celery queue", labels=["queue"]
    )
    family.add_metric(["celery"], checks.queue_depth())
    yield family


def health_metrics() -> Iterable[Metric]:
    results = checks.run_checks(
        {"database": checks.database, "cache": checks.cache_round_trip, "heartbeats": checks.heartbeats}
    )
    family = GaugeMetricFamily(
        "vigil_health_check_status",
        "1 for the current status of each health check",
        labels=["check", "status"],
    )
    for name, result in results.items():
        for level in HEALTH_LEVELS:
            family.add_metric([name, level], 1.0 if result.status == level else 0.0)
    yield family
