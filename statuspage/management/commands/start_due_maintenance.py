from django.core.management.base import BaseCommand

from statuspage.services import start_due_maintenance


class Command(BaseCommand):
    help = "Start and complete maintenance whose time has come (the beat job of the same name)."

    def handle(self, *args, **options):
        self.stdout.write(start_due_maintenance())
