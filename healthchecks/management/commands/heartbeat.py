import socket

from django.core.management.base import BaseCommand

from healthchecks.models import Heartbeat
from healthchecks.services import heartbeat_record


class Command(BaseCommand):
    help = "Record a worker heartbeat for this host (the beat job of the same name)."

    def handle(self, *args, **options):
        name = f"manual@{socket.gethostname()}"
        heartbeat_record(kind=Heartbeat.Kind.WORKER, name=name)
        self.stdout.write(f"worker heartbeat recorded for {name}")
