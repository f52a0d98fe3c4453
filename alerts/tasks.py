from celery import shared_task

from alerts.evaluation import evaluate_rules
from alerts.notify import notify_pending_alerts
from alerts.services import escalate_due_alerts


@shared_task(ignore_result=True)
def evaluate_alerts() -> str:
    return str(evaluate_rules())


@shared_task(ignore_result=True)
def escalate_alerts() -> str:
    escalated = escalate_due_alerts()
    # Also the safety net for announcements whose task was lost (a crash, a broker outage).
    notified = notify_pending_alerts()
    return f"{escalated} escalations, {notified} grouped notifications"
