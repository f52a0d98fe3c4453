from django.core.management.base import BaseCommand, CommandError

from notifications.services import NotificationError, channels_sync_from_settings


class Command(BaseCommand):
    help = (
        "Create the notification channels that the environment asks for (EMAIL_*, SLACK_*, WEBHOOK_*) "
        "plus the staff dashboard channel. Idempotent; never changes a channel staff edited."
    )

    def handle(self, *args, **options):
        try:
            lines = channels_sync_from_settings()
        except NotificationError as exc:
            raise CommandError(str(exc)) from None
        for line in lines:
            self.stdout.write(f"  {line}")
