from django.core.management.base import BaseCommand

from statuspage.schedules.services import schedules_run


class Command(BaseCommand):
    help = (
        "Create the occurrences of the recurring maintenance schedules that start within "
        "MAINTENANCE_SCHEDULE_HORIZON_DAYS (the beat job of the same name)."
    )

    def handle(self, *args, **options):
        self.stdout.write(schedules_run())
