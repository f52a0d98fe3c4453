from pathlib import Path

import environ
from django.core.management.base import BaseCommand, CommandError

from backups.engines import BackupError
from backups.services import backup_restore


def _target(value: str) -> dict:
    if "://" in value:
        try:
            return environ.Env.db_url_config(value)
        except Exception as exc:
            raise CommandError(f"--target is not a database URL: {exc}") from None
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(Path(value).resolve())}


class Command(BaseCommand):
    help = (
        "Restore a backup FILE (written by `backup`; its manifest's checksum is checked first) into "
        "Vigil's database, or into --target. A target that already has tables is refused unless "
        "--force. Stop web, worker and beat before restoring over the live database."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The backup file (.pgdump or .sqlite3).")
        parser.add_argument(
            "--target", help="A PostgreSQL database URL or an SQLite file path (default: Vigil's database)."
        )
        parser.add_argument(
            "--force", action="store_true", help="Replace the contents of a non-empty target."
        )

    def handle(self, *args, file, target=None, force=False, **options):
        try:
            backup_restore(
                path=Path(file),
                target=_target(target) if target else None,
                force=force,
                progress=self.stdout.write,
            )
        except BackupError as exc:
            raise CommandError(f"restore failed: {exc}") from None
        self.stdout.write(self.style.SUCCESS(f"restored {Path(file).name}"))
