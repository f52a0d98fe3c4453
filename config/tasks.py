from celery import shared_task

from config.retention import old_data_purge


@shared_task(ignore_result=True)
def purge_old_data() -> str:
    return "purged " + ", ".join(f"{count} {what}" for what, count in old_data_purge().items())
