from django.core.management.base import BaseCommand

from monitoring.rollups import metrics_rollup, metrics_rollup_until_current


class Command(BaseCommand):
    help = "Bring the minute and hour metric rollups up to date (the beat job of the same name)."

    def add_arguments(self, parser):
        parser.add_argument("--catch-up", action="store_true", help="Repeat until both are current.")

    def handle(self, *args, **options):
        written = metrics_rollup_until_current() if options["catch_up"] else metrics_rollup()
        self.stdout.write(f"rollups written: {written['minute']} minute, {written['hour']} hour")
