"""The web server as the Procfile starts it, on a loopback port, with clients that trickle
their request headers one byte at a time (a slowloris): /health/live must still answer."""

import os
import signal
import socket
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.faults.processes import MODE_VARIABLES, Processes, free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
SLOW_CLIENTS = 20


def procfile_command(name: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no {name} line in the Procfile")


@pytest.fixture
def web(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in MODE_VARIABLES}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    port = free_port()
    env.update(
        VIGIL_DATA_DIR=str(tmp_path),
        VIGIL_BIND=f"127.0.0.1:{port}",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    processes = Processes(tmp_path, env)
    # The Procfile line through a shell, as honcho runs it; exec so the server has the shell's pid.
    processes.start("web", ["sh", "-c", f"exec {procfile_command('web')}"], stop_signal=signal.SIGINT)
    url = f"http://127.0.0.1:{port}"

    def live() -> bool:
        try:
            return requests.get(f"{url}/health/live", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    try:
        wait_until(live, timeout=60, what="the web server to answer /health/live")
        yield port, url
    finally:
        processes.stop_all()


def test_it_answers_health_live_while_slow_clients_trickle_their_headers(web):
    port, url = web
    slow = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(SLOW_CLIENTS)]
    try:
        for sock in slow:
            sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        time.sleep(0.5)
        for sock in slow:
            sock.sendall(b"X")  # one more byte of a header that never ends
        started = time.monotonic()
        response = requests.get(f"{url}/health/live", timeout=5)
        took = time.monotonic() - started
    finally:
        for sock in slow:
            sock.close()
    assert response.status_code == 200
    assert took < 1, f"/health/live took {took:.2f} s with {SLOW_CLIENTS} slow clients"
