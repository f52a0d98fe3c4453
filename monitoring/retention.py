"""Retention: the purge_old_data job runs every function in PURGERS, in order.

Apps add their purge function to PURGERS (an explicit list, no signals). Each takes `now` and
returns (what, rows deleted). Deletes go in batches of BATCH_SIZE rows, each its own short
transaction, so no single giant DELETE holds locks or bloats the WAL; two runs at once just
share the work (a batch already deleted by the other deletes nothing).
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from alerts.retention import purge_alerts
from healthchecks.retention import purge_probe_results
from monitoring.models import HourRollup, Metric, MinuteRollup
from notifications.services import purge_notifications

BATCH_SIZE = 10_000


def delete_in_batches(
    queryset: models.QuerySet, *, batch_size: int = BATCH_SIZE, max_batches: int = 10_000
) -> int:
    """Delete the rows of `queryset` BATCH_SIZE primary keys at a time; returns how many rows
    of the queryset's own model went (rows removed by cascade are not counted)."""
    deleted = 0
    for _ in range(max_batches):
        with transaction.atomic():
            ids = list(queryset.values_list("pk", flat=True)[:batch_size])
            if not ids:
                break
            _, per_model = queryset.model.objects.filter(pk__in=ids).delete()
        deleted += per_model.get(queryset.model._meta.label, 0)
        if len(ids) < batch_size:
            break
    return deleted


def purge_raw_metrics(now: datetime) -> tuple[str, int]:
    cutoff = now - timedelta(days=settings.METRICS_RETENTION_DAYS)
    return "raw metric points", delete_in_batches(Metric.objects.filter(timestamp__lt=cutoff))


def purge_minute_rollups(now: datetime) -> tuple[str, int]:
    cutoff = now - timedelta(days=settings.METRIC_MINUTE_ROLLUP_RETENTION_DAYS)
    return "minute rollups", delete_in_batches(MinuteRollup.objects.filter(bucket_start__lt=cutoff))


def purge_hour_rollups(now: datetime) -> tuple[str, int]:
    cutoff = now - timedelta(days=settings.METRIC_HOUR_ROLLUP_RETENTION_DAYS)
    return "hour rollups", delete_in_batches(HourRollup.objects.filter(bucket_start__lt=cutoff))


PURGERS: list[Callable[[datetime], tuple[str, int]]] = [
    purge_raw_metrics,
    purge_minute_rollups,
    purge_hour_rollups,
    purge_alerts,
    purge_notifications,
    purge_probe_results,
]


def old_data_purge(*, now: datetime | None = None) -> list[tuple[str, int]]:
    now = now or timezone.now()
    return [purger(now) for purger in PURGERS]
