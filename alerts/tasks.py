from celery import shared_task
from django.db import transaction


@shared_task(ignore_result=True)
def evaluate_alerts() -> str:
    from alerts.evaluation import evaluate_rules

    return str(evaluate_rules())


@shared_task(ignore_result=True)
def escalate_alerts() -> str:
    from alerts.notify import notify_pending_alerts
    from alerts.services import escalate_due_alerts

    escalated = escalate_due_alerts()
    # Also the safety net for announcements whose task was lost (a crash, a broker outage).
    notified = notify_pending_alerts()
    return f"{escalated} escalations, {notified} grouped notifications"


@shared_task(ignore_result=True)
def notify_alerts() -> str:
    from alerts.notify import notify_pending_alerts

    return f"{notify_pending_alerts()} grouped notifications"


def notify_alerts_after_commit() -> None:
    """Announce new alerts and resolutions once the caller's transaction has committed. With
    the broker down this only logs (robust): the change is saved, and the escalate_alerts sweep
    announces what is pending."""
    transaction.on_commit(notify_alerts.delay, robust=True)
