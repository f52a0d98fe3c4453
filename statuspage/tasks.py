from celery import shared_task
from django.conf import settings

from statuspage import publish, services, uptime


@shared_task(ignore_result=True)
def start_due_maintenance() -> str:
    return services.start_due_maintenance()


@shared_task(ignore_result=True)
def rollup_uptime() -> str:
    return uptime.rollup_uptime()


@shared_task(ignore_result=True)
def publish_status() -> str:
    if not settings.STATUSPAGE_PUBLISH_DIR:
        return "publish_status: STATUSPAGE_PUBLISH_DIR is not set, nothing to do"
    return publish.publish_static(settings.STATUSPAGE_PUBLISH_DIR)


from statuspage.subscriber_tasks import send_maintenance_reminders  # noqa: E402, F401  (registers it)
