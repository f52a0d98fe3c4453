from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from alerts.models import Alert

BATCH = 1000


def purge_resolved_alerts(*, now=None, batch: int = BATCH) -> int:
    """Delete resolved alerts older than ALERTS_RETENTION_DAYS, a batch at a time, so no single
    DELETE holds locks on the table for long."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.ALERTS_RETENTION_DAYS)
    total = 0
    while True:
        ids = list(
            Alert.objects.filter(status=Alert.Status.RESOLVED, resolved_at__lt=cutoff).values_list(
                "pk", flat=True
            )[:batch]
        )
        if not ids:
            return total
        Alert.objects.filter(pk__in=ids).delete()
        total += len(ids)
