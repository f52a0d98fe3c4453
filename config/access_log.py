"""The web server's access log: one line per request, written by Django through the logging
configuration (so config/redact.py's filter takes tokens out of paths and query strings).

Written here rather than by the web server: granian's own access log calls into Python from its
Rust side for every request, which cost about a third of a cached page's CPU; a line written by
the thread that already serves the request costs a tenth of that. `python -m config.web` turns
it on for its workers (ACCESS_LOG=1); manage.py, Celery and the tests leave it off.
"""

import logging
import threading
import time
from multiprocessing import util

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed

logger = logging.getLogger("vigil.access")
perf_counter = time.perf_counter


class AccessLogMiddleware:
    def __init__(self, get_response):
        if not settings.ACCESS_LOG:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        started = perf_counter()
        response = self.get_response(request)
        meta = request.META
        logger.info(
            '%s - "%s %s %s" %d %.1fms',
            meta.get("REMOTE_ADDR") or "-",
            request.method,
            request.get_full_path(),
            meta.get("SERVER_PROTOCOL") or "-",
            response.status_code,
            (perf_counter() - started) * 1000,
        )
        return response


class BufferedStreamHandler(logging.StreamHandler):
    """A stream handler that writes its lines in batches: when 32 KiB are waiting, when a line
    comes a second after the last write, and once a second from a timer thread (so a quiet
    server's last lines show too), and at exit. One write per request to a pipe cost more than
    the rest of the line's logging; like nginx's `access_log ... buffer=32k flush=1s`."""

    def __init__(self, stream=None, max_bytes: int = 32 * 1024, max_delay: float = 1.0):
        super().__init__(stream)
        self.max_bytes, self.max_delay = max_bytes, max_delay
        self._pending: list[str] = []
        self._size = 0
        self._written = time.monotonic()
        self._timer: threading.Thread | None = None
        # A forked worker (granian's) leaves without running atexit, hence logging.shutdown
        # never flushes it; multiprocessing's own exit hook does run.
        util.Finalize(self, self.flush, exitpriority=10)

    def emit(self, record: logging.LogRecord) -> None:
        # Called by Handler.handle with self.lock held.
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        self._pending.append(line)
        self._size += len(line)
        if self._timer is None or not self._timer.is_alive():  # none yet, or a forked child
            self._timer = threading.Thread(target=self._flush_every, name="access-log", daemon=True)
            self._timer.start()
        if self._size >= self.max_bytes or time.monotonic() - self._written >= self.max_delay:
            self._write()

    def _write(self) -> None:
        if self._pending:
            text, self._pending, self._size = "".join(self._pending), [], 0
            try:
                self.stream.write(text)
                self.stream.flush()
            except Exception:  # a closed stream: lose the lines, never the request
                pass
        self._written = time.monotonic()

    def flush(self) -> None:
        with self.lock:
            self._write()

    def _flush_every(self) -> None:
        while True:
            time.sleep(self.max_delay)
            self.flush()
