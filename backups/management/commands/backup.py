from django.core.management.base import BaseCommand, CommandError

from backups.engines import BackupError
from backups.services import backup_create, backup_daily, backups_prune


class Command(BaseCommand):
    help = (
        "Write a consistent backup of the database (pg_dump -Fc, or SQLite's online backup) to "
        "BACKUP_DIR with its manifest, then delete backups older than BACKUP_RETENTION_DAYS. "
        "--daily does what the beat job of the same name does: also verify the newest backup, and "
        "skip what a recent run already did."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--daily", action="store_true", help="Run as the beat job (backup, verify, prune)."
        )
        parser.add_argument("--no-prune", action="store_true", help="Keep old backups this time.")

    def handle(self, *args, daily=False, no_prune=False, **options):
        if daily:
            self.stdout.write(backup_daily())
            return
        try:
            backup = backup_create(progress=self.stdout.write)
        except BackupError as exc:
            raise CommandError(f"backup failed: {exc}") from None
        if not no_prune:
            self.stdout.write(f"{backups_prune()} old backup(s) deleted")
        self.stdout.write(self.style.SUCCESS(f"backup written: {backup.file_name}"))
