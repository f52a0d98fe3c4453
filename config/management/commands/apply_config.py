import sys

from django.core.management.base import BaseCommand, CommandError

from config.configcode.apply import Change, config_apply
from config.configcode.document import DocumentInvalid, parse_yaml
from config.models import AuditEntry


class Command(BaseCommand):
    help = (
        "Make the configuration match a YAML document (as export_config writes it): print the diff, "
        "then apply it in one transaction. Deletes only with --prune; --dry-run writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The document; - reads standard input.")
        parser.add_argument("--dry-run", action="store_true", help="Print the diff and write nothing.")
        parser.add_argument("--prune", action="store_true", help="Also delete what the document leaves out.")

    def handle(self, *args, **options):
        text = self._read(options["file"])
        try:
            outcome = config_apply(
                parse_yaml(text),
                prune=options["prune"],
                dry_run=options["dry_run"],
                via=AuditEntry.Via.OTHER,
                on_diff=self._print_diff,
                progress=lambda done, total: self.stderr.write(f"... {done} of {total} changes written"),
            )
        except DocumentInvalid as error:
            for problem in error.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                f"{len(error.problems)} problem(s) in {options['file']}; nothing was changed."
            ) from None
        if not outcome.changes:
            self.stdout.write("No changes: the configuration already matches the document.")
            return
        counts = outcome.counts()
        summary = f"{counts['create']} to create, {counts['update']} to update, {counts['delete']} to delete"
        if outcome.dry_run:
            self.stdout.write(f"Dry run: {summary}; nothing was written.")
        else:
            done = f"{counts['create']} created, {counts['update']} updated, {counts['delete']} deleted"
            self.stdout.write(f"Applied: {done}.")

    def _print_diff(self, changes: list[Change]) -> None:
        for change in changes:
            self.stdout.write(str(change))

    def _read(self, name: str) -> str:
        try:
            if name == "-":
                return sys.stdin.read()
            with open(name, encoding="utf-8") as source:
                return source.read()
        except OSError as error:
            raise CommandError(f"cannot read {name}: {error.strerror}") from None
        except UnicodeDecodeError:
            raise CommandError(f"{name} is not UTF-8 text") from None
