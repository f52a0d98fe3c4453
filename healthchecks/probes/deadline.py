"""Probe deadlines: each probe's whole exchange (connect, headers and body) under one
core.deadline, and a round that can cut off every probe still running at its own deadline.

Socket timeouts bound each read, not the exchange: an endpoint that sends one byte a second
never trips a 5 s read timeout and keeps its probe (and the thread and socket under it) forever.
core.deadline watches every socket a probe's thread connects; a pooled connection that a later
probe uses again is put under that probe's deadline when its request starts (the connection
class of the probe session's pools, `watched_pool_classes`), so requests and urllib3 are used as
they are.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from core import deadline as socket_deadline
from core.deadline import Deadline


class Round:
    """The deadlines of one round's probes, so the round's own deadline can end them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[Deadline] = set()
        self._all_expired = False

    @contextmanager
    def deadline(self, seconds: float) -> Iterator[Deadline]:
        """Run the body under a deadline `seconds` from now (the sockets it uses are watched)."""
        with socket_deadline.deadline(seconds) as limit:
            with self._lock:
                if self._all_expired:  # a probe that starts after the round's end
                    limit.expire()
                self._running.add(limit)
            try:
                yield limit
            finally:
                with self._lock:
                    self._running.discard(limit)

    def expire_all(self) -> None:
        """Cut off every probe still running (the round's own deadline has passed)."""
        with self._lock:
            self._all_expired = True
            running = list(self._running)
        for limit in running:
            limit.expire()


def watch(sock) -> None:
    """Put `sock` under the deadline of the probe this thread runs (none outside a probe)."""
    limit = socket_deadline.current()
    if limit is not None:
        limit.watch(sock)


def current_remaining(default: float) -> float:
    limit = socket_deadline.current()
    return min(default, max(limit.remaining(), 0.001)) if limit is not None else default


class _Watched:
    """Mixin for urllib3's connections: never connect for longer than the time left, and put a
    pooled connection's socket under the deadline of each probe that uses it again."""

    def _new_conn(self):
        if isinstance(self.timeout, int | float):
            self.timeout = current_remaining(self.timeout)
        sock = super()._new_conn()
        self._raw_socket = sock  # the TCP socket under TLS: shut down without touching TLS state
        return sock

    def request(self, *args, **kwargs):
        sock = getattr(self, "_raw_socket", None)
        if sock is not None and self.sock is not None:
            watch(sock)
        return super().request(*args, **kwargs)


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


watched_pool_classes = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
