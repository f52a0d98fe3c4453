from celery import shared_task
from django.conf import settings

from backups.services import backup_daily, backup_verify_again

# A dump, a restore into the scratch database and the counts each have BACKUP_TIMEOUT; the
# default task limits (a few minutes) would kill a backup of any real size half-way.
_LIMIT = 3 * settings.BACKUP_TIMEOUT + 300


@shared_task(ignore_result=True, soft_time_limit=_LIMIT, time_limit=_LIMIT + 60)
def backup(force: bool = False) -> str:
    return backup_daily(force=force)


@shared_task(ignore_result=True, soft_time_limit=_LIMIT, time_limit=_LIMIT + 60)
def verify(backup_id: int) -> str:
    return backup_verify_again(backup_id=backup_id)
