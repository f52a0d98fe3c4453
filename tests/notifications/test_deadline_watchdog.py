import socket
import threading
import time

from core.deadline import deadline

_ACCEPTED: list = []  # held for the whole run, so the accepted sides stay open and silent


def _silent_server() -> tuple[socket.socket, int]:
    """A listener that accepts and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    threading.Thread(target=lambda: _ACCEPTED.append(listener.accept()), daemon=True).start()
    return listener, listener.getsockname()[1]


def _read_under(seconds: float, port: int) -> tuple[float, bool]:
    started = time.monotonic()
    with deadline(seconds) as limit, socket.create_connection(("127.0.0.1", port)) as sock:
        sock.recv(1)  # returns b"" once the watchdog shuts the socket down
    return time.monotonic() - started, limit.expired


def test_it_ends_a_short_deadline_on_time_while_a_longer_one_is_open():
    listener, port = _silent_server()
    with deadline(60):  # the watchdog now sleeps until this one is due
        elapsed, expired = _read_under(0.3, port)
    listener.close()
    assert expired and elapsed < 2


def test_it_ends_each_of_many_sequential_deadlines_on_time():
    listener, port = _silent_server()
    for _ in range(50):
        with deadline(30):  # finished at once, as most sends are
            pass
    elapsed, expired = _read_under(0.3, port)
    listener.close()
    assert expired and elapsed < 2
