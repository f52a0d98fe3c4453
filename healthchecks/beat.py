"""A beat scheduler that records its own heartbeat, so health can tell beat is alive even
when no worker is (a worker heartbeat alone cannot tell a dead beat from a dead worker)."""

import logging
import socket
import time

from celery.beat import PersistentScheduler

logger = logging.getLogger(__name__)


class HeartbeatScheduler(PersistentScheduler):
    # Wake at least this often, so the heartbeat stays fresh between long-interval jobs.
    max_interval = 5
    record_every = 5.0
    _last_recorded = 0.0

    def tick(self, *args, **kwargs):
        if time.monotonic() - self._last_recorded >= self.record_every:
            self._record_heartbeat()
        return super().tick(*args, **kwargs)

    def _record_heartbeat(self) -> None:
        from django.db import close_old_connections

        from healthchecks.models import Heartbeat
        from healthchecks.services import heartbeat_record

        try:
            close_old_connections()
            heartbeat_record(kind=Heartbeat.Kind.BEAT, name=socket.gethostname())
            self._last_recorded = time.monotonic()
        except Exception as exc:  # the database may be down; beat must keep scheduling
            logger.warning("beat heartbeat not recorded: %s", exc)
