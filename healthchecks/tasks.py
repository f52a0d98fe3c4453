import socket

from celery import shared_task

from healthchecks.models import Heartbeat
from healthchecks.pings.buffer import flush_pings as buffer_flush
from healthchecks.pings.services import checks_sweep
from healthchecks.probes.services import probes_run_due
from healthchecks.services import heartbeat_record


@shared_task(bind=True, ignore_result=True)
def heartbeat(self) -> str:
    name = self.request.hostname or socket.gethostname()
    heartbeat_record(kind=Heartbeat.Kind.WORKER, name=name)
    return f"worker heartbeat recorded for {name}"


@shared_task(ignore_result=True)
def run_probes() -> str:
    return str(probes_run_due())


@shared_task(ignore_result=True)
def sweep_checks() -> str:
    return str(checks_sweep())


@shared_task(ignore_result=True)
def flush_pings() -> str:
    return str(buffer_flush())
