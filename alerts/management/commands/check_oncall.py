from django.core.management.base import BaseCommand, CommandError

from alerts.coverage import HORIZON, coverage_alert, coverage_gaps, coverage_report


class Command(BaseCommand):
    help = (
        "List every hour of the next 14 days in which an enabled critical or high alert rule's "
        "escalation policy reaches nobody with a verified contact method; exit 1 if there is one. "
        "With --raise-alert it also does what the daily beat job of the same name does: raise the "
        "coverage alert, or resolve it when there is no gap."
    )

    def add_arguments(self, parser):
        parser.add_argument("--raise-alert", action="store_true", help="Raise or resolve the coverage alert.")

    def handle(self, *args, **options):
        gaps = coverage_alert() if options["raise_alert"] else coverage_gaps()
        if not gaps:
            self.stdout.write(f"Every urgent rule's policy reaches someone for the next {HORIZON.days} days.")
            return
        self.stdout.write(coverage_report(gaps))
        total = sum(len(gap.hours) for gap in gaps)
        raise CommandError(f"{total} uncovered hour(s) in {len(gaps)} escalation policy(ies).", returncode=1)
