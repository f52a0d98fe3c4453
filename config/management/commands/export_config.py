from django.core.management.base import BaseCommand, CommandError

from config.configcode.export import config_export
from config.configcode.sections import Duplicates


class Command(BaseCommand):
    help = (
        "Write the configuration (components, groups, probes, alert rules, escalation policies, "
        "channels, silences, incident templates) as one YAML document; secrets as {env: VARIABLE}."
    )

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", help="Write to this file instead of standard output.")

    def handle(self, *args, **options):
        try:
            text = config_export(warn=lambda line: self.stderr.write(f"warning: {line}"))
        except Duplicates as error:
            raise CommandError(str(error)) from None
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as out:
                out.write(text)
        else:
            self.stdout.write(text, ending="")
