from django.core.management.base import BaseCommand

from alerts.drills import drills_settle, drills_start_due


class Command(BaseCommand):
    help = (
        "Start the weekly paging drills that are due and settle finished drills (acknowledged, or "
        "missed: that raises an alert). The beat job of the same name; safe to run twice at once."
    )

    def handle(self, *args, **options):
        started = drills_start_due()
        settled = drills_settle()
        self.stdout.write(
            f"{started} drill(s) started, {settled['acknowledged']} acknowledged, {settled['missed']} missed"
        )
