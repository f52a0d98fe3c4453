"""Delivery counts for Prometheus (monitoring/prometheus.py lists this collector)."""

from collections.abc import Iterable

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily, Metric

from notifications.models import Channel, Delivery


def delivery_metrics() -> Iterable[Metric]:
    family = GaugeMetricFamily(
        "vigil_deliveries", "Outbox deliveries by status and channel kind", labels=["status", "kind"]
    )
    counts = {
        (row["status"], row["kind"]): row["n"]
        for row in Delivery.objects.values("status", "kind").annotate(n=Count("id"))
    }
    for status in Delivery.Status.values:
        for kind in Channel.Kind.values:
            family.add_metric([status, kind], counts.get((status, kind), 0))
    yield family
