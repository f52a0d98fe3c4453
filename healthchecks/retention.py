"""Retention of probe results, for monitoring's purge_old_data job (its PURGERS list)."""

from datetime import datetime, timedelta

from django.conf import settings

from healthchecks.models import ProbeResult


def purge_probe_results(now: datetime) -> tuple[str, int]:
    from monitoring.retention import delete_in_batches  # monitoring lists this function: no cycle

    cutoff = now - timedelta(days=settings.PROBE_RESULTS_RETENTION_DAYS)
    return "probe results", delete_in_batches(ProbeResult.objects.filter(checked_at__lt=cutoff))
