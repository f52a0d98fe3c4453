from django.core.management.base import BaseCommand

from notifications.services import deliveries_send_due


class Command(BaseCommand):
    help = (
        "Send every due delivery: new ones whose dispatch was lost, retries that are due, and rows "
        "whose claim expired (a dead worker); fail those past their maximum age. The beat job of the "
        "same name, with its deadline: done within CELERY_TASK_SOFT_TIME_LIMIT seconds (or --budget, "
        "plus one send). Safe to run twice at once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--budget", type=float, default=None, help="Stop after this many seconds.")

    def handle(self, *args, **options):
        report = deliveries_send_due(budget=options["budget"])
        self.stdout.write(f"sweep: {report}")
