from django.core.management.base import BaseCommand
from django.db import transaction

from config.demo import SEEDS


class Command(BaseCommand):
    help = "Load demo data for every app. Idempotent: a second run adds nothing."

    def handle(self, *args, **options):
        for seed in SEEDS:
            with transaction.atomic():
                line = seed()
            self.stdout.write(f"  {line}")
        self.stdout.write(self.style.SUCCESS("demo data ready"))
