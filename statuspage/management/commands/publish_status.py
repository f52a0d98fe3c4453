from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from statuspage.publish import publish_static


class Command(BaseCommand):
    help = "Write the status page, its JSON and feeds as static files (the beat job of the same name)."

    def add_arguments(self, parser):
        parser.add_argument("--out", default=settings.STATUSPAGE_PUBLISH_DIR, help="Folder to write to.")

    def handle(self, *args, out, **options):
        if not out:
            raise CommandError("Give --out DIR or set STATUSPAGE_PUBLISH_DIR.")
        self.stdout.write(publish_static(out))
