from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from alerts.models import Alert


def purge_resolved_alerts(*, now: datetime | None = None, batch: int = 1000) -> int:
    """Delete resolved alerts older than ALERTS_RETENTION_DAYS (and their timelines), a batch
    at a time, so no single DELETE holds locks on the table for long."""
    from monitoring.retention import delete_in_batches

    cutoff = (now or timezone.now()) - timedelta(days=settings.ALERTS_RETENTION_DAYS)
    old = Alert.objects.filter(status=Alert.Status.RESOLVED, resolved_at__lt=cutoff)
    return delete_in_batches(old, batch_size=batch)


def purge_alerts(now: datetime) -> tuple[str, int]:
    """The purge_old_data entry (monitoring.retention.PURGERS)."""
    return "resolved alerts", purge_resolved_alerts(now=now)
