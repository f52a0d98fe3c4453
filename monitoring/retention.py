"""Retention of metric points and their rollups (one of the purge functions of purge_old_data)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from core.batches import delete_in_batches
from monitoring.models import HourRollup, Metric, MinuteRollup


def metrics_purge(now: datetime | None = None) -> dict[str, int]:
    """Delete raw points and rollups past their retention; rows deleted per kind."""
    now = now or timezone.now()

    def older_than(days: int) -> datetime:
        return now - timedelta(days=days)

    return {
        "raw metric points": delete_in_batches(
            Metric.objects.filter(timestamp__lt=older_than(settings.METRICS_RETENTION_DAYS))
        ),
        "minute rollups": delete_in_batches(
            MinuteRollup.objects.filter(
                bucket_start__lt=older_than(settings.METRIC_MINUTE_ROLLUP_RETENTION_DAYS)
            )
        ),
        "hour rollups": delete_in_batches(
            HourRollup.objects.filter(bucket_start__lt=older_than(settings.METRIC_HOUR_ROLLUP_RETENTION_DAYS))
        ),
    }
