"""Run-time operations config: one database row, seeded from the environment, edited in the
admin or with PUT /api/operations/config. The environment gives only the initial values."""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.models import OperationsConfig
from notifications.models import Channel

# model field -> the setting (environment variable) that seeds it
SEEDED_FROM: dict[str, str] = {
    "response_time_threshold_ms": "RESPONSE_TIME_THRESHOLD",
    "error_rate_threshold_percent": "ERROR_RATE_THRESHOLD",
    "memory_usage_threshold_percent": "MEMORY_USAGE_THRESHOLD",
    "cpu_usage_threshold_percent": "CPU_USAGE_THRESHOLD",
    "disk_usage_threshold_percent": "DISK_USAGE_THRESHOLD",
    "health_check_interval_seconds": "HEALTH_CHECK_INTERVAL",
    "metric_collection_interval_seconds": "METRIC_COLLECTION_INTERVAL",
    "alert_check_interval_seconds": "ALERT_CHECK_INTERVAL",
}
THRESHOLD_FIELDS = [name for name in SEEDED_FROM if "threshold" in name]
INTERVAL_FIELDS = [name for name in SEEDED_FROM if "interval" in name]


def config_defaults() -> dict:
    return {field: getattr(settings, name) for field, name in SEEDED_FROM.items()}


def config_get() -> OperationsConfig:
    """The row, created from the environment on first use (two first readers at once: the
    loser of the primary-key race reads the winner's row)."""
    row = OperationsConfig.objects.filter(pk=OperationsConfig.SINGLETON_PK).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            return OperationsConfig.objects.create(pk=OperationsConfig.SINGLETON_PK, **config_defaults())
    except IntegrityError:
        return OperationsConfig.objects.get(pk=OperationsConfig.SINGLETON_PK)


def config_update(*, values: dict, user=None, channels: list[dict] = ()) -> OperationsConfig:
    """Apply validated values and channel switches ([{"id": .., "enabled": ..}]). Rows are
    saved one by one (not update()) so the audit log records before and after."""
    with transaction.atomic():
        switches = {item["id"]: item["enabled"] for item in channels}
        for channel in Channel.objects.select_for_update().filter(pk__in=switches):
            if channel.enabled != switches[channel.pk]:
                channel.enabled = switches[channel.pk]
                channel.save(update_fields=["enabled", "updated_at"])
        config_get()
        row = OperationsConfig.objects.select_for_update().get(pk=OperationsConfig.SINGLETON_PK)
        for name, value in values.items():
            setattr(row, name, value)
        row.full_clean()
        row.updated_at = timezone.now()
        row.updated_by = user if user is not None and user.is_authenticated else None
        row.save()
    return row


def system_thresholds() -> dict[str, float]:
    """The /health/system thresholds (healthchecks.checks reads them through the
    SYSTEM_THRESHOLDS_FUNCTION setting). Read-only: the health checks run in threads with
    their own connections, and a health check must never write. Falls back to the
    environment when there is no row yet or the database cannot be read (a health check
    must still answer while the database is down)."""
    fallback = {
        "cpu_percent": settings.CPU_USAGE_THRESHOLD,
        "memory_percent": settings.MEMORY_USAGE_THRESHOLD,
        "disk_percent": settings.DISK_USAGE_THRESHOLD,
    }
    try:
        row = (
            OperationsConfig.objects.filter(pk=OperationsConfig.SINGLETON_PK)
            .values_list(
                "cpu_usage_threshold_percent",
                "memory_usage_threshold_percent",
                "disk_usage_threshold_percent",
            )
            .first()
        )
    except Exception:
        return fallback
    if row is None:
        return fallback
    return dict(zip(("cpu_percent", "memory_percent", "disk_percent"), row, strict=True))
