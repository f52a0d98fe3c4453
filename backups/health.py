"""The backups entry of /health/detailed (named by HEALTH_DETAILED_EXTRA_CHECKS)."""

from backups.services import backup_status
from healthchecks.checks import Degraded


def last_verified_backup() -> dict:
    status = backup_status()
    details = {
        "last_verified_backup": status["last_verified_backup"],
        "last_verified_backup_at": (
            status["last_verified_backup_at"].isoformat() if status["last_verified_backup_at"] else None
        ),
        "age_seconds": status["age_seconds"],
        "max_age_hours": status["max_age_hours"],
    }
    if status["age_seconds"] is None:
        raise Degraded("no verified backup", details)
    if not status["fresh"]:
        raise Degraded(
            f"the last verified backup is {status['age_seconds'] / 3600:.1f} h old "
            f"(more than {status['max_age_hours']} h)",
            details,
        )
    return details
