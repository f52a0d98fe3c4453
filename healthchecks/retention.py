"""Retention of probe results (one of the purge functions of purge_old_data)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from core.batches import delete_in_batches
from healthchecks.models import Ping, ProbeResult


def probe_results_purge(now: datetime | None = None) -> dict[str, int]:
    cutoff = (now or timezone.now()) - timedelta(days=settings.PROBE_RESULTS_RETENTION_DAYS)
    return {"probe results": delete_in_batches(ProbeResult.objects.filter(checked_at__lt=cutoff))}


def pings_purge(now: datetime | None = None) -> dict[str, int]:
    cutoff = (now or timezone.now()) - timedelta(days=settings.LOGS_RETENTION_DAYS)
    return {"check pings": delete_in_batches(Ping.objects.filter(at__lt=cutoff))}
