from django.core.management.base import BaseCommand

from statuspage.uptime import uptime_rollup


class Command(BaseCommand):
    help = (
        "Bring the kept daily uptime figures up to now and close finished days (beat job of the same name)."
    )

    def handle(self, *args, **options):
        self.stdout.write(uptime_rollup())
