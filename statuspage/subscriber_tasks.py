from celery import shared_task

from statuspage.announce import maintenance_reminders_send


@shared_task(ignore_result=True)
def send_maintenance_reminders() -> str:
    return maintenance_reminders_send()
