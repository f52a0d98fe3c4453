from django.core.management.base import BaseCommand

from reports.response_targets import response_targets_check
from reports.slo import slos_evaluate


class Command(BaseCommand):
    help = "Evaluate SLO burn rates (raising or resolving their alerts) and record missed response targets."

    def handle(self, *args, **options):
        self.stdout.write(f"{slos_evaluate()}; {response_targets_check()}")
