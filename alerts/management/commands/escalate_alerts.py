from django.core.management.base import BaseCommand

from alerts.notify import alerts_pending_announce
from alerts.services import alerts_escalate_due


class Command(BaseCommand):
    help = "Escalate unacknowledged alerts that are due and send pending alert notifications (beat job)."

    def handle(self, *args, **options):
        escalated = alerts_escalate_due()
        notified = alerts_pending_announce()
        self.stdout.write(f"{escalated} escalations, {notified} grouped notifications")
