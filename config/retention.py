"""purge_old_data: every app's purge function, in order. Composed here, at the top of the
layering, because it is the one place that may see every app; each app owns its own function."""

from collections.abc import Callable
from datetime import datetime

from django.utils import timezone

from alerts.retention import alerts_purge
from healthchecks.retention import pings_purge, probe_results_purge
from monitoring.retention import ingest_keys_purge, metrics_purge
from notifications.services import notifications_purge

# Each takes `now` and returns {what: rows deleted}. Deletes go in batches, each its own short
# transaction (core.batches), so two runs at once just share the work.
PURGERS: list[Callable[[datetime], dict[str, int]]] = [
    metrics_purge,
    ingest_keys_purge,
    alerts_purge,
    notifications_purge,
    probe_results_purge,
    pings_purge,
]


def old_data_purge(*, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    purged: dict[str, int] = {}
    for purger in PURGERS:
        purged.update(purger(now))
    return purged
