from django.core.management.base import BaseCommand

from monitoring.collection import metrics_collect


class Command(BaseCommand):
    help = "Collect one sample of the built-in metrics (the beat job of the same name)."

    def handle(self, *args, **options):
        rows = metrics_collect()
        self.stdout.write(f"collected {len(rows)} points: " + ", ".join(sorted({r.name for r in rows})))
