from django.core.management.base import BaseCommand

from alerts.notify import notify_pending_alerts
from alerts.services import escalate_due_alerts


class Command(BaseCommand):
    help = "Escalate unacknowledged alerts that are due and send pending alert notifications (beat job)."

    def handle(self, *args, **options):
        escalated = escalate_due_alerts()
        notified = notify_pending_alerts()
        self.stdout.write(f"{escalated} escalations, {notified} grouped notifications")
