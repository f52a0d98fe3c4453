"""A deadline over a probe's whole exchange: connect, headers and body together.

Socket timeouts bound each read, not the exchange: an endpoint that sends one byte a second
never trips a 5 s read timeout and keeps its probe (and the thread and socket under it) forever.
So every socket a probe opens or reuses is registered with its deadline, and one watchdog thread
per round shuts those sockets down when the deadline passes. A blocked read then returns at
once, the request fails, and the thread is free again.

The registration happens in the connection class of the probe session's pools
(`watched_pool_classes`), so requests and urllib3 are used as they are; the TLS certificate check
registers its own socket with `watch`.
"""

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_current = threading.local()  # the Deadline of the probe this thread is running, if any


class Deadline:
    def __init__(self, watchdog: "Watchdog", seconds: float) -> None:
        self.watchdog = watchdog
        self.at = time.monotonic() + seconds
        self.expired = False
        self.finished = False

    def remaining(self) -> float:
        return 0.001 if self.expired else max(self.at - time.monotonic(), 0.001)


class Watchdog:
    """Cuts off the sockets of every probe still running at its deadline. Use as a context
    manager around a round: its thread ends with the round."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._due: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        # Which probe a socket currently serves: a pooled connection moves from one probe to the
        # next, and only its current probe's deadline may cut it.
        self._owners: dict[socket.socket, Deadline] = {}
        self._stopping = False
        self._all_expired = False
        self._thread = threading.Thread(target=self._run, name="probe-watchdog", daemon=True)

    def __enter__(self) -> "Watchdog":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify()
        self._thread.join()

    @contextmanager
    def deadline(self, seconds: float) -> Iterator[Deadline]:
        """Run the body under a deadline `seconds` from now (the sockets it opens are watched)."""
        deadline = Deadline(self, seconds)
        with self._lock:
            deadline.expired = self._all_expired  # a probe that starts after the round's end
            heapq.heappush(self._due, (deadline.at, next(self._order), deadline))
            self._lock.notify()
        _current.deadline = deadline
        try:
            yield deadline
        finally:
            _current.deadline = None
            with self._lock:
                deadline.finished = True
                for sock in [s for s, owner in self._owners.items() if owner is deadline]:
                    del self._owners[sock]

    def adopt(self, deadline: Deadline, sock: socket.socket) -> None:
        with self._lock:
            self._owners[sock] = deadline
            if deadline.expired:
                _cut(sock)

    def expire_all(self) -> None:
        """Cut off every probe still running (the round's own deadline has passed)."""
        with self._lock:
            self._all_expired = True
            for _, _, deadline in self._due:
                self._expire(deadline)
            self._due.clear()

    def _expire(self, deadline: Deadline) -> None:
        if deadline.finished or deadline.expired:
            return
        deadline.expired = True
        for sock, owner in self._owners.items():
            if owner is deadline:
                _cut(sock)

    def _run(self) -> None:
        with self._lock:
            while not self._stopping:
                now = time.monotonic()
                while self._due and (self._due[0][0] <= now or self._due[0][2].finished):
                    self._expire(heapq.heappop(self._due)[2])
                self._lock.wait(self._due[0][0] - now if self._due else None)


def _cut(sock: socket.socket) -> None:
    # shutdown, not close: the reading thread still owns the descriptor and closes it itself;
    # shutdown wakes its blocked recv (end of file) without racing it for the descriptor.
    with contextlib.suppress(OSError):  # already closed, or never connected
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def watch(sock: socket.socket) -> None:
    """Put `sock` under the deadline of the probe this thread runs (none outside a probe)."""
    deadline = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.watchdog.adopt(deadline, sock)


def current_remaining(default: float) -> float:
    deadline = getattr(_current, "deadline", None)
    return min(default, deadline.remaining()) if deadline is not None else default


class _Watched:
    """Mixin for urllib3's connections: register the socket when it is made and whenever a
    pooled connection is used again, and never connect for longer than the time left."""

    def _new_conn(self) -> socket.socket:
        if isinstance(self.timeout, int | float):
            self.timeout = current_remaining(self.timeout)
        sock = super()._new_conn()
        self._raw_socket = sock  # the TCP socket under TLS: shut down without touching TLS state
        watch(sock)
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
