"""Retention of resolved alerts (one of the purge functions of purge_old_data)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from alerts.models import Alert
from core.batches import delete_in_batches


def alerts_purge(now: datetime | None = None, *, batch_size: int = 1000) -> dict[str, int]:
    """Delete resolved alerts older than ALERTS_RETENTION_DAYS (and their timelines), a batch
    at a time, so no single DELETE holds locks on the table for long."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.ALERTS_RETENTION_DAYS)
    old = Alert.objects.filter(status=Alert.Status.RESOLVED, resolved_at__lt=cutoff)
    return {"resolved alerts": delete_in_batches(old, batch_size=batch_size)}
