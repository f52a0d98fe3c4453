"""The Celery app and the one beat schedule.

Every periodic job is listed in BEAT_JOBS with the setting that gives its interval; each is
also a management command of the same name, so ops can run it by hand or from cron.
"""

import logging
import os
from datetime import timedelta

from celery import Celery, bootsteps, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

logger = logging.getLogger(__name__)
app = Celery("vigil")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Tasks that live beside the code they run rather than in an app's tasks module.
app.autodiscover_tasks(["statuspage"], related_name="publish")
app.autodiscover_tasks(["alerts"], related_name="slack")


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def _redact_worker_logs(logger, **kwargs) -> None:
    """Celery replaces the root logger's handlers with its own: give them the same filter as
    Django's (config/redact.py), so a task's traceback cannot print a token or password."""
    from config.redact import RedactSecrets

    for handler in logger.handlers:
        handler.addFilter(RedactSecrets())


# job name -> (task, the setting that gives its interval in seconds). A message older than
# its interval is dropped (expires), so a backlog after an outage does not replay stale ticks.
# Each job is also a management command of the same name.
BEAT_JOBS: dict[str, tuple[str, str]] = {
    "heartbeat": ("healthchecks.tasks.heartbeat", "HEARTBEAT_INTERVAL"),
    "collect_metrics": ("monitoring.tasks.collect_metrics", "METRIC_COLLECTION_INTERVAL"),
    "rollup_metrics": ("monitoring.tasks.rollup_metrics", "METRIC_ROLLUP_INTERVAL"),
    "partition_metrics": ("monitoring.tasks.partition_metrics", "METRIC_PARTITION_INTERVAL"),
    "purge_old_data": ("config.tasks.purge_old_data", "PURGE_INTERVAL"),
    "send_due_deliveries": ("notifications.tasks.send_due_deliveries", "NOTIFICATIONS_SWEEP_INTERVAL"),
    "start_due_maintenance": ("statuspage.tasks.start_due_maintenance", "MAINTENANCE_CHECK_INTERVAL"),
    "schedule_maintenance": ("statuspage.tasks.schedule_maintenance", "MAINTENANCE_SCHEDULE_INTERVAL"),
    "rollup_uptime": ("statuspage.tasks.rollup_uptime", "UPTIME_ROLLUP_INTERVAL"),
    "publish_status": ("statuspage.publish.publish_status", "STATUSPAGE_PUBLISH_INTERVAL"),
    "evaluate_alerts": ("alerts.tasks.evaluate_alerts", "ALERT_CHECK_INTERVAL"),
    "escalate_alerts": ("alerts.tasks.escalate_alerts", "ESCALATION_CHECK_INTERVAL"),
    "check_oncall": ("alerts.tasks.check_oncall", "ONCALL_COVERAGE_CHECK_INTERVAL"),
    "run_paging_drills": ("alerts.tasks.run_paging_drills", "PAGING_DRILL_CHECK_INTERVAL"),
    "run_probes": ("healthchecks.tasks.run_probes", "HEALTH_CHECK_INTERVAL"),
    "sweep_checks": ("healthchecks.tasks.sweep_checks", "CHECKS_SWEEP_INTERVAL"),
    "check_service_levels": ("reports.tasks.check_service_levels", "SERVICE_LEVEL_CHECK_INTERVAL"),
    "send_reports": ("reports.tasks.send_reports", "REPORTS_CHECK_INTERVAL"),
    "send_maintenance_reminders": (
        "statuspage.tasks.send_maintenance_reminders",
        "SUBSCRIBERS_REMINDER_CHECK_INTERVAL",
    ),
    "backup": ("backups.tasks.backup", "BACKUP_INTERVAL"),
}


def beat_schedule(intervals: dict) -> dict:
    """Build Celery's beat_schedule, reading each job's interval (seconds) from `intervals`."""
    schedule = {}
    for job, (task, interval_setting) in BEAT_JOBS.items():
        seconds = intervals[interval_setting]
        schedule[job] = {
            "task": task,
            "schedule": timedelta(seconds=seconds),
            # The header tells the worker that beat sent it (config.beat_reports).
            "options": {"expires": seconds, "headers": {"beat_job": job}},
        }
    return schedule


@signals.task_success.connect
def _report_beat_job(sender=None, **kwargs) -> None:
    from config.beat_reports import beat_job_report

    beat_job_report(sender)


class SweepChecksWithoutBeat(bootsteps.StartStopStep):
    """Every worker also sends the heartbeat-check sweep on its own timer: when beat stalls, the
    built-in checks of its jobs still go down and alert. Extra sweeps are harmless (claims are
    SKIP LOCKED), and are not beat's, so they do not count as the sweep job reporting."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        self.timer_entry = None

    def start(self, worker):
        from django.conf import settings

        interval = settings.CHECKS_SWEEP_INTERVAL
        self.timer_entry = worker.timer.call_repeatedly(
            interval, _send_sweep, (worker.app, interval), priority=10
        )

    def stop(self, worker):
        if self.timer_entry is not None:
            self.timer_entry.cancel()


def _send_sweep(celery_app, interval: int) -> None:
    try:
        celery_app.send_task("healthchecks.tasks.sweep_checks", expires=interval)
    except Exception as exc:  # a broker outage must not stop the worker's timer
        logger.warning("heartbeat-check sweep not sent: %s", exc)


app.steps["worker"].add(SweepChecksWithoutBeat)
