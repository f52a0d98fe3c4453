"""A total deadline on a blocking network exchange: connect, request and the whole answer.

Socket timeouts bound each read, not the exchange: a peer that sends one byte per second never
trips a 10 s read timeout and holds the caller for as long as it likes. requests, urllib3 and
smtplib offer nothing more (urllib3's "total" timeout still restarts at every read), so:

    with deadline(30) as limit:
        ...  # any blocking exchange made by this thread
    if limit.expired: ...

While the block runs, every socket this thread connects is watched (through the interpreter's
audit event for socket.connect, the one place every library's connect passes, TLS included),
and so is any socket handed to watch() (a connection opened earlier and reused). When the time
is up, one watchdog thread shuts the watched sockets down: the blocked read returns at once,
the library raises its usual connection error, and `expired` says it was the deadline.

A socket is watched through a duplicate of its descriptor. Shutting down acts on the kernel
socket both descriptors share, so it also ends an SSL socket that wrapped the original, and the
duplicate keeps the descriptor number from being reused by an unrelated file until the block
ends and closes it.

Not covered: the name lookup before a connect (getaddrinfo cannot be interrupted; it is bounded
by the resolver's own timeouts).
"""

import contextlib
import heapq
import itertools
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator

_current = threading.local()


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires_at = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._watched: list[socket.socket] = []

    def remaining(self) -> float:
        return max(0.0, self.expires_at - time.monotonic())

    def watch(self, sock: socket.socket) -> None:
        try:
            duplicate = sock.dup()
        except OSError:  # already closed: nothing left to end
            return
        with self._lock:
            self._watched.append(duplicate)
            if self.expired:
                _shut(duplicate)

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            for duplicate in self._watched:
                _shut(duplicate)

    def close(self) -> None:
        with self._lock:
            for duplicate in self._watched:
                duplicate.close()
            self._watched.clear()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # not connected yet, or already gone
        sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One thread per process that expires open deadlines in time order."""

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._heap: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        self._open: set[Deadline] = set()
        self._thread: threading.Thread | None = None
        # When the thread will look again by itself (None: only when woken). A deadline due
        # later needs no wake-up: a batch of sends, each under its own deadline, would otherwise
        # switch to this thread and back once per send.
        self._wakes_at: float | None = None

    def add(self, limit: Deadline) -> None:
        with self._wake:
            while self._heap and self._heap[0][2] not in self._open:
                heapq.heappop(self._heap)  # finished in time
            heapq.heappush(self._heap, (limit.expires_at, next(self._order), limit))
            self._open.add(limit)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="socket-deadlines", daemon=True)
                self._thread.start()
            if self._wakes_at is None or limit.expires_at < self._wakes_at:
                self._wake.notify()

    def remove(self, limit: Deadline) -> None:
        with self._wake:
            self._open.discard(limit)

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._heap and self._heap[0][2] not in self._open:
                    heapq.heappop(self._heap)  # finished in time
                if not self._heap:
                    self._wakes_at = None
                    self._wake.wait()
                    continue
                expires_at, _, limit = self._heap[0]
                pause = expires_at - time.monotonic()
                if pause > 0:
                    self._wakes_at = expires_at
                    self._wake.wait(pause)
                    self._wakes_at = None
                    continue
                heapq.heappop(self._heap)
                self._open.discard(limit)
            limit.expire()


_watchdog = _Watchdog()


def _after_fork_in_child() -> None:
    # A forked worker child has no watchdog thread, and the parent's lock may have been held.
    global _watchdog
    _watchdog = _Watchdog()


def _on_audit(event: str, args: tuple) -> None:
    if event == "socket.connect":
        limit = getattr(_current, "deadline", None)
        if limit is not None:
            limit.watch(args[0])


os.register_at_fork(after_in_child=_after_fork_in_child)
sys.addaudithook(_on_audit)


def current() -> Deadline | None:
    """The deadline this thread runs under, if any."""
    return getattr(_current, "deadline", None)


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[Deadline]:
    """Bound everything this thread sends and receives inside the block to `seconds` in all."""
    limit = Deadline(seconds)
    outer = getattr(_current, "deadline", None)
    _current.deadline = limit
    _watchdog.add(limit)
    try:
        yield limit
    finally:
        _current.deadline = outer
        _watchdog.remove(limit)
        limit.close()
