from celery import shared_task

from alerts.coverage import coverage_alert
from alerts.drills import drills_settle, drills_start_due
from alerts.evaluation import evaluate_rules
from alerts.notify import alerts_pending_announce
from alerts.services import alerts_escalate_due


@shared_task(ignore_result=True)
def evaluate_alerts() -> str:
    return str(evaluate_rules())


@shared_task(ignore_result=True)
def escalate_alerts() -> str:
    escalated = alerts_escalate_due()
    # Also the safety net for announcements whose task was lost (a crash, a broker outage).
    notified = alerts_pending_announce()
    return f"{escalated} escalations, {notified} grouped notifications"


@shared_task(ignore_result=True)
def check_oncall() -> str:
    gaps = coverage_alert()
    return f"{sum(len(gap.hours) for gap in gaps)} uncovered hours in {len(gaps)} policies"


@shared_task(ignore_result=True)
def run_paging_drills() -> str:
    started = drills_start_due()
    settled = drills_settle()
    return f"{started} drills started, {settled['acknowledged']} acknowledged, {settled['missed']} missed"
