from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from monitoring.rollups import metrics_rollup, metrics_rollup_recompute, metrics_rollup_until_current


class Command(BaseCommand):
    help = "Bring the minute and hour metric rollups up to date (the beat job of the same name)."

    def add_arguments(self, parser):
        parser.add_argument("--catch-up", action="store_true", help="Repeat until both are current.")
        parser.add_argument(
            "--since",
            help="Recompute every bucket from this ISO 8601 time on (after a backfill of old points).",
        )

    def handle(self, *args, **options):
        if options["since"]:
            since = parse_datetime(options["since"])
            if since is None or since.tzinfo is None:
                raise CommandError(
                    "--since must be an ISO 8601 time with an offset, e.g. 2026-11-01T00:00:00Z"
                )
            written = metrics_rollup_recompute(since=since)
        elif options["catch_up"]:
            written = metrics_rollup_until_current()
        else:
            written = metrics_rollup()
        self.stdout.write(f"rollups written: {written['minute']} minute, {written['hour']} hour")
