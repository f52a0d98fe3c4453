"""Beat that follows the intervals staff set at run time (operations config), without a restart.

Every REFRESH_SECONDS it reads the intervals from the database and re-times the beat jobs whose
interval setting the operations config covers (BEAT_JOBS names each job's setting). The database
being down leaves the current intervals in place."""

import contextlib
import logging
import time
from datetime import timedelta

from celery.beat import PersistentScheduler
from celery.schedules import schedule

from config.celery import BEAT_JOBS
from healthchecks.beat import HeartbeatScheduler

logger = logging.getLogger(__name__)


def runtime_intervals() -> dict[str, int]:
    """{interval setting name: seconds} from the operations config row (none yet: {})."""
    from config.models import OperationsConfig
    from config.runtime_config import INTERVAL_FIELDS, SEEDED_FROM

    row = OperationsConfig.objects.filter(pk=OperationsConfig.SINGLETON_PK).values(*INTERVAL_FIELDS).first()
    return {SEEDED_FROM[name]: seconds for name, seconds in (row or {}).items()}


class RuntimeIntervalScheduler(HeartbeatScheduler):
    refresh_seconds = 30.0
    _last_refresh = float("-inf")

    def tick(self, *args, **kwargs):
        if time.monotonic() - self._last_refresh >= self.refresh_seconds:
            self.apply_runtime_intervals()
        return super().tick(*args, **kwargs)

    _entries = None

    def _read_entries(self):
        # The file is read again after each sync. When two beats share it by mistake, a read can
        # catch the other one half-way through a write (an UnpicklingError, an EOFError, a missing
        # key...): this beat then goes on with the entries it last read and saves them back.
        try:
            self._entries = PersistentScheduler.get_schedule(self)
        except Exception as exc:
            if self._entries is None:
                raise
            logger.warning("beat schedule file not read, going on with the last entries: %r", exc)
            with contextlib.suppress(Exception):  # saved again at the next sync that can
                PersistentScheduler.set_schedule(self, self._entries)
        return self._entries

    schedule = property(_read_entries, PersistentScheduler.set_schedule)

    def sync(self) -> None:
        # The schedule file only remembers when each job last ran. When two beats share it by
        # mistake, one's dbm rename can remove the file the other is saving: losing one save
        # costs at most a repeated tick, while the error would stop this beat for good.
        try:
            super().sync()
        except OSError as exc:
            logger.warning("beat schedule file not saved, trying again at the next sync: %s", exc)

    def apply_runtime_intervals(self) -> list[str]:
        """Re-time the jobs whose interval changed; returns their names."""
        from django.db import close_old_connections

        self._last_refresh = time.monotonic()
        try:
            close_old_connections()
            intervals = runtime_intervals()
        except Exception as exc:
            logger.warning("run-time intervals not read, keeping the current ones: %s", exc)
            return []
        changed = []
        for job, (_task, setting) in BEAT_JOBS.items():
            seconds = intervals.get(setting)
            entry = self.schedule.get(job)
            if not seconds or entry is None:
                continue
            if getattr(entry.schedule, "run_every", None) == timedelta(seconds=seconds):
                continue
            entry.schedule = schedule(run_every=timedelta(seconds=seconds), app=self.app)
            entry.options["expires"] = seconds
            changed.append(job)
        if changed:
            logger.info("beat intervals changed at run time: %s", ", ".join(changed))
        return changed
