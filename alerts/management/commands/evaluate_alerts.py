from django.core.management.base import BaseCommand

from alerts.evaluation import evaluate_rules


class Command(BaseCommand):
    help = (
        "Evaluate every enabled alert rule once (the beat job of the same name). Safe to run twice at once."
    )

    def handle(self, *args, **options):
        self.stdout.write(str(evaluate_rules()))
