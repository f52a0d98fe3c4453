"""Monitoring's own Prometheus collector: the size of the metric store and the ingest count."""

from collections.abc import Iterable

from django.db import connection
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from monitoring.ingest import ingested_total
from monitoring.models import HourRollup, MinuteRollup
from monitoring.models import Metric as MetricRow


def _row_estimate(model) -> int:
    # An exact COUNT(*) over tens of millions of points takes seconds; the planner's estimate
    # is free and good enough for a gauge. SQLite (embedded, small) counts.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [model._meta.db_table]
            )
            row = cursor.fetchone()
        if row and row[0] >= 0:
            return int(row[0])
    return model.objects.count()


def metric_store_metrics() -> Iterable[Metric]:
    rows = GaugeMetricFamily(
        "vigil_metric_rows", "Rows in the metric tables (estimate on PostgreSQL)", labels=["table"]
    )
    for table, model in (("raw", MetricRow), ("minute_rollup", MinuteRollup), ("hour_rollup", HourRollup)):
        rows.add_metric([table], _row_estimate(model))
    yield rows
    yield CounterMetricFamily(
        "vigil_metric_points_ingested", "Points written through the ingest API", value=ingested_total()
    )
