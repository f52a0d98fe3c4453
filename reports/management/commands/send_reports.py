from django.core.management.base import BaseCommand

from reports.services import reports_send_due


class Command(BaseCommand):
    help = "Send each enabled scheduled report's newest complete period, once (beat job)."

    def handle(self, *args, **options):
        self.stdout.write(reports_send_due())
