from django.core.management.base import BaseCommand

from statuspage.services import maintenance_start_due


class Command(BaseCommand):
    help = "Start and complete maintenance whose time has come (the beat job of the same name)."

    def handle(self, *args, **options):
        self.stdout.write(maintenance_start_due())
