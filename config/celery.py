"""The Celery app and the one beat schedule.

Every periodic job is listed in BEAT_JOBS with the setting that gives its interval; each is
also a management command of the same name, so ops can run it by hand or from cron.
"""

import os
from datetime import timedelta

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("vigil")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# job name -> (task, which interval it follows). Jobs run at most once per interval; a
# message older than its interval is dropped (expires), so a backlog after an outage does
# not replay a hundred stale ticks.
BEAT_JOBS: dict[str, tuple[str, str]] = {
    "heartbeat": ("healthchecks.tasks.heartbeat", "heartbeat"),
}


def beat_schedule(**intervals: int) -> dict:
    """Build Celery's beat_schedule from interval seconds keyed like BEAT_JOBS' second column."""
    schedule = {}
    for job, (task, interval_name) in BEAT_JOBS.items():
        seconds = intervals[interval_name]
        schedule[job] = {
            "task": task,
            "schedule": timedelta(seconds=seconds),
            "options": {"expires": seconds},
        }
    return schedule
