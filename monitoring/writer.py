"""The one writer of metric rows, for ingest, collection, request timing and probes: COPY on
PostgreSQL (several times faster than INSERTs for a batch), bulk INSERTs elsewhere."""

import json
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from django.db import connection, transaction

from monitoring.models import Metric

COPY_COLUMNS = ("metric_type", "category", "name", "value", "unit", "source", "endpoint", "tags", "timestamp")


class Point(NamedTuple):
    """One validated point, its fields in COPY_COLUMNS order (so COPY writes it as it is)."""

    metric_type: str
    category: str
    name: str
    value: float
    unit: str
    source: str
    endpoint: str
    tags_json: str
    timestamp: datetime

    def as_metric(self) -> Metric:
        return Metric(
            metric_type=self.metric_type,
            category=self.category,
            name=self.name,
            value=self.value,
            unit=self.unit,
            source=self.source,
            endpoint=self.endpoint,
            tags=json.loads(self.tags_json),
            timestamp=self.timestamp,
        )

    @classmethod
    def from_metric(cls, metric: Metric) -> "Point":
        return cls(
            metric.metric_type,
            metric.category,
            metric.name,
            float(metric.value),
            metric.unit,
            metric.source,
            metric.endpoint,
            json.dumps(metric.tags or {}, separators=(",", ":")),
            metric.timestamp,
        )


def metrics_write(rows: Sequence[Point | Metric]) -> int:
    """Write points (validated ingest points, or unsaved Metric rows) in one transaction;
    returns how many were written."""
    if not rows:
        return 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            _copy(rows)
        else:
            Metric.objects.bulk_create(
                [row.as_metric() if isinstance(row, Point) else row for row in rows], batch_size=500
            )
    return len(rows)


def _copy(rows: Sequence[Point | Metric]) -> None:
    table = connection.ops.quote_name(Metric._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in COPY_COLUMNS)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row if isinstance(row, Point) else Point.from_metric(row))
