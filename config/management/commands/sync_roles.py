from django.core.management.base import BaseCommand

from config.roles import sync_roles


class Command(BaseCommand):
    help = "Create the Viewers, Operators and Administrators groups and set their permissions (re-runnable)."

    def handle(self, *args, **options):
        counts = sync_roles()
        self.stdout.write(", ".join(f"{name}: {count} permissions" for name, count in counts.items()))
