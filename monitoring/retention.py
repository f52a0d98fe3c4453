"""Retention of metric points, their rollups and ingest keys (purge functions of purge_old_data)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from core.batches import delete_in_batches
from monitoring.ingest import INGEST_KEY_DAYS
from monitoring.models import HourNameRollup, HourRollup, IngestKey, Metric, MinuteNameRollup, MinuteRollup
from monitoring.partitions import metric_partitions_drop, partitioned


def metrics_purge(now: datetime | None = None) -> dict[str, int]:
    """Delete raw points and rollups past their retention; rows deleted per kind. On PostgreSQL
    a day of raw points goes as a whole partition once all of it is past retention, so points
    are kept up to a day longer than METRICS_RETENTION_DAYS."""
    now = now or timezone.now()

    def older_than(days: int) -> datetime:
        return now - timedelta(days=days)

    raw_cutoff = older_than(settings.METRICS_RETENTION_DAYS)
    if partitioned():
        days_dropped, raw_deleted = metric_partitions_drop(cutoff=raw_cutoff)
        raw = {"raw metric points": raw_deleted, "raw metric day partitions": days_dropped}
    else:
        raw = {"raw metric points": delete_in_batches(Metric.objects.filter(timestamp__lt=raw_cutoff))}
    minute_cutoff = older_than(settings.METRIC_MINUTE_ROLLUP_RETENTION_DAYS)
    hour_cutoff = older_than(settings.METRIC_HOUR_ROLLUP_RETENTION_DAYS)
    return {
        **raw,
        "minute rollups": delete_in_batches(MinuteRollup.objects.filter(bucket_start__lt=minute_cutoff)),
        "minute rollups per name": delete_in_batches(
            MinuteNameRollup.objects.filter(bucket_start__lt=minute_cutoff)
        ),
        "hour rollups": delete_in_batches(HourRollup.objects.filter(bucket_start__lt=hour_cutoff)),
        "hour rollups per name": delete_in_batches(
            HourNameRollup.objects.filter(bucket_start__lt=hour_cutoff)
        ),
    }


def ingest_keys_purge(now: datetime | None = None) -> dict[str, int]:
    """Forget ingest Idempotency-Keys after a day: a client resends within minutes, not days."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=INGEST_KEY_DAYS)
    return {"ingest idempotency keys": delete_in_batches(IngestKey.objects.filter(created_at__lt=cutoff))}
