"""Vigil's beat jobs report to built-in heartbeat checks each time they run, so a job that stops
running (or a beat that stalls) is an alert like any other job's. Called by the worker's
task_success signal; only tasks beat sent carry the `beat_job` header."""

import logging

from django.conf import settings

from config.celery import BEAT_JOBS

logger = logging.getLogger(__name__)


def beat_job_report(task) -> str | None:
    """Ping the built-in check of the beat job `task` ran for; returns the job (None: not beat's)."""
    job = getattr(getattr(task, "request", None), "beat_job", None)
    if job not in BEAT_JOBS:
        return None
    from config.beat import runtime_intervals
    from healthchecks.pings.services import builtin_check_ping

    setting = BEAT_JOBS[job][1]
    try:
        interval = runtime_intervals().get(setting) or getattr(settings, setting)
        builtin_check_ping(job=job, interval_seconds=interval)
    except Exception as exc:  # reporting must never turn a job that ran into a failed task
        logger.warning("beat job %s ran but its built-in check was not pinged: %s", job, exc)
    return job
