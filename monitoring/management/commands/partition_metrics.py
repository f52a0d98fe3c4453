from django.core.management.base import BaseCommand, CommandError

from monitoring.partitions import metric_partitions, metric_partitions_ensure, partitioned


class Command(BaseCommand):
    help = (
        "Create the daily partitions of raw metric points for the days ahead (PostgreSQL; "
        "the beat job of the same name)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days-ahead", type=int, help="Days ahead (default METRIC_PARTITIONS_AHEAD_DAYS)."
        )

    def handle(self, *args, **options):
        if not partitioned():
            self.stdout.write("raw metric points are one table on this database: nothing to partition")
            return
        days = options["days_ahead"]
        if days is not None and not 0 <= days <= 366:
            raise CommandError("--days-ahead must be between 0 and 366")
        created = metric_partitions_ensure(days_ahead=days)
        existing = metric_partitions()
        self.stdout.write(
            f"metric partitions created: {', '.join(created) or 'none'}; "
            f"{len(existing)} daily partitions, {min(existing)} to {max(existing)}"
        )
