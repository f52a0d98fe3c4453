from django.core.management.base import BaseCommand

from healthchecks.probes.services import probes_run_due


class Command(BaseCommand):
    help = "Run the component probes that are due (the beat job of the same name; safe to run twice at once)."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="Claim at most this many probes.")

    def handle(self, *args, limit=None, **options):
        summary = probes_run_due(limit=limit)
        self.stdout.write(str(summary))
        for error in summary.errors:
            self.stderr.write(error)
