from celery import shared_task

from statuspage import services, uptime
from statuspage.announce import maintenance_reminders_send
from statuspage.schedules.services import schedules_run


@shared_task(ignore_result=True)
def start_due_maintenance() -> str:
    return services.maintenance_start_due()


@shared_task(ignore_result=True)
def rollup_uptime() -> str:
    return uptime.uptime_rollup()


@shared_task(ignore_result=True)
def send_maintenance_reminders() -> str:
    return maintenance_reminders_send()


@shared_task(ignore_result=True)
def schedule_maintenance() -> str:
    return schedules_run()
