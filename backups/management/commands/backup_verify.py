from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from backups.engines import BackupError
from backups.models import BackupVerification
from backups.services import backup_verify


class Command(BaseCommand):
    help = (
        "Restore the newest backup in BACKUP_DIR (or FILE) into a scratch database or file, check "
        "its migrations and compare its row counts with its manifest; the result is recorded, and "
        "a failure takes the backups check down (an alert). Exit status 1 when it fails."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="A backup file (default: the newest in BACKUP_DIR).")

    def handle(self, *args, file=None, **options):
        try:
            verification = backup_verify(path=Path(file) if file else None, progress=self.stdout.write)
        except BackupError as exc:  # another verification is running
            raise CommandError(str(exc)) from None
        if verification.result != BackupVerification.Result.PASSED:
            raise CommandError(f"backup verification failed: {verification.error}")
        self.stdout.write(self.style.SUCCESS(f"backup verified: {verification.file_name}"))
