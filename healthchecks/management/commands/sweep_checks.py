from django.core.management.base import BaseCommand

from healthchecks.pings.services import checks_sweep


class Command(BaseCommand):
    help = (
        "Mark heartbeat checks whose ping is overdue late, and those past their grace down with an "
        "alert (the beat job of the same name; safe to run twice at once)."
    )

    def handle(self, *args, **options):
        found = checks_sweep()
        self.stdout.write(f"{found['late']} check(s) now late, {found['down']} now down")
