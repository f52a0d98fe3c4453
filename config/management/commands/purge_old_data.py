from django.core.management.base import BaseCommand

from config.retention import old_data_purge


class Command(BaseCommand):
    help = "Delete data past its retention period, in batches (the beat job of the same name)."

    def handle(self, *args, **options):
        for what, count in old_data_purge().items():
            self.stdout.write(f"purged {count} {what}")
