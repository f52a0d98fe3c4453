import logging

from django.core.management.base import BaseCommand

from healthchecks.agents import cli


class Command(BaseCommand):
    help = "Run a remote probe agent (the same as the vigil-agent command; it uses no database)."

    def add_arguments(self, parser):
        cli.add_arguments(parser)

    def handle(self, *args, **options):
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("vigil.agent").setLevel(logging.INFO)
        status = cli.run(_Namespace(options))
        if status:
            raise SystemExit(status)


class _Namespace:
    def __init__(self, options: dict) -> None:
        self.__dict__.update(options)
