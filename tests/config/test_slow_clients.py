"""The web server as the Procfile starts it, on a loopback port, with clients that trickle
their request headers or bodies (a slowloris), or send too much: /health/live must still
answer, a body that never completes is cut off after WEB_TIMEOUT, and an oversized one is
refused before it is read."""

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
BODY_TIMEOUT = 3
MAX_BODY = 100_000
PING = "/ping/00000000-0000-0000-0000-000000000000"
# Headers announcing 1,000 bytes of body, and the first two of them.
SLOW_BODY = f"POST {PING} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\nab".encode()


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
        WEB_TIMEOUT=str(BODY_TIMEOUT),
        WEB_MAX_BODY=str(MAX_BODY),
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


def test_it_answers_health_live_while_slow_clients_trickle_their_bodies(web):
    port, url = web
    # More than the server has threads: each would hold one if bodies were read on a thread.
    slow = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(SLOW_CLIENTS * 2)]
    try:
        for sock in slow:
            sock.sendall(
                f"POST {PING} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\nab".encode()
            )
        time.sleep(0.5)
        started = time.monotonic()
        response = requests.get(f"{url}/health/live", timeout=5)
        took = time.monotonic() - started
    finally:
        for sock in slow:
            sock.close()
    assert response.status_code == 200
    assert took < 1, f"/health/live took {took:.2f} s with {len(slow)} slow bodies"


def test_it_cuts_off_a_body_that_never_completes(web):
    port, _ = web
    with socket.create_connection(("127.0.0.1", port), timeout=BODY_TIMEOUT + 5) as sock:
        sock.sendall(SLOW_BODY)
        started = time.monotonic()
        answer = sock.recv(200)
        took = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408")
    assert took < BODY_TIMEOUT + 2


def test_it_refuses_an_oversized_body_before_reading_it(web):
    _, url = web
    response = requests.post(f"{url}/health/live", data=b"x" * (MAX_BODY + 1), timeout=5)
    assert response.status_code == 413
    # A body within the limit reaches Django, which refuses the method.
    assert requests.post(f"{url}/health/live", data=b"x" * 100, timeout=5).status_code == 405


def test_it_reloads_its_workers_on_sighup_without_dropping_the_port(web):
    port, url = web
    import psutil

    server = psutil.Process(_server_pid(port))
    workers_before = {child.pid for child in server.children()}
    before = requests.get(f"{url}/health/live", timeout=5)
    server.send_signal(signal.SIGHUP)
    # Asked all through the respawn: every answer is a 200, none refused.
    answers = []
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        answers.append(requests.get(f"{url}/health/live", timeout=5).status_code)
        time.sleep(0.05)
    assert before.status_code == 200
    assert set(answers) == {200}
    workers_after = {child.pid for child in server.children()}
    assert workers_after and not workers_after & workers_before


def _server_pid(port: int) -> int:
    import psutil

    for conn in psutil.net_connections("tcp"):
        if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN and conn.pid:
            process = psutil.Process(conn.pid)
            # The listening socket is shared with the workers: the server is their parent.
            parent = process.parent()
            return parent.pid if parent and "config.web" in " ".join(parent.cmdline()) else process.pid
    raise AssertionError(f"nothing listens on {port}")
