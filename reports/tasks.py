from celery import shared_task

from reports.response_targets import response_targets_check
from reports.services import reports_send_due
from reports.slo import slos_evaluate


@shared_task(ignore_result=True)
def check_service_levels() -> str:
    return f"{slos_evaluate()}; {response_targets_check()}"


@shared_task(ignore_result=True)
def send_reports() -> str:
    return reports_send_due()
