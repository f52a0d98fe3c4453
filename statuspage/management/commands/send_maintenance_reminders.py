from django.core.management.base import BaseCommand

from statuspage.announce import maintenance_reminders_send


class Command(BaseCommand):
    help = "Mail subscribers a reminder before scheduled maintenance starts (the beat job of the same name)."

    def handle(self, *args, **options):
        self.stdout.write(maintenance_reminders_send())
