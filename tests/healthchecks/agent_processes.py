"""Real agents for the tests: `python -m healthchecks.agents.cli` processes (what the
vigil-agent script runs) without the project's settings, against a live server this test can
stop and start again on the same port."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connections
from django.test.testcases import LiveServerThread, QuietWSGIRequestHandler, _StaticFilesHandler

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _ClosingServer(ThreadedWSGIServer):
    """Shuts down its clients' connections when it closes: a keep-alive connection would
    otherwise go on being served by its handler thread after the server "stopped"."""

    def process_request(self, request, client_address):
        self.clients = getattr(self, "clients", set())
        self.clients.add(request)
        super().process_request(request, client_address)

    def server_close(self):
        super().server_close()
        for client in getattr(self, "clients", ()):
            with contextlib.suppress(OSError):  # closed already
                client.shutdown(socket.SHUT_RDWR)


class _ReusableServerThread(LiveServerThread):
    """The live server, binding its port again straight after the last one closed it."""

    server_class = _ClosingServer

    def _create_server(self, connections_override=None):
        return self.server_class(
            (self.host, self.port),
            QuietWSGIRequestHandler,
            allow_reuse_address=True,
            connections_override=connections_override,
        )


class RestartableServer:
    """Django's live-server thread on a fixed port: stop() closes its socket (agents get
    connection refused), start() serves again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.thread = None
        self.shared = [
            conn for conn in connections.all() if conn.vendor == "sqlite" and conn.is_in_memory_db()
        ]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "RestartableServer":
        for conn in self.shared:
            conn.inc_thread_sharing()
        self.thread = _ReusableServerThread(
            "127.0.0.1", _StaticFilesHandler, {conn.alias: conn for conn in self.shared}, self.port
        )
        self.thread.daemon = True
        self.thread.start()
        self.thread.is_ready.wait(10)
        if self.thread.error:
            raise self.thread.error
        return self

    def stop(self) -> None:
        if self.thread is not None:
            self.thread.terminate()
            self.thread = None
            for conn in self.shared:
                conn.dec_thread_sharing()


class AgentProcess:
    def __init__(self, server_url: str, secret: str, data_dir: Path, *extra: str) -> None:
        self.args = [
            sys.executable,
            "-m",
            "healthchecks.agents.cli",
            "--server",
            server_url,
            "--key",
            secret,
            "--data-dir",
            str(data_dir),
            "--interval",
            "0.5",
            "--refresh",
            "1",
            "--allow-network",
            "127.0.0.0/8",
            *extra,
        ]
        self.log_path = data_dir.with_suffix(".log")
        self.process = None

    def start(self) -> "AgentProcess":
        # No DJANGO_SETTINGS_MODULE and no database: the agent needs neither.
        env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
        self.log = self.log_path.open("a")
        self.process = subprocess.Popen(
            self.args, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        return self

    def terminate(self, timeout: float = 20) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self._wait(timeout)

    def kill(self) -> int:
        self.process.kill()
        return self._wait(10)

    def _wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(5)
            self.log.close()

    def text(self) -> str:
        return self.log_path.read_text()

    def probes_run(self) -> int:
        """How many probe results the agent made, from its own log."""
        return sum(
            int(line.split("ran ", 1)[1].split(" ", 1)[0])
            for line in self.text().splitlines()
            if " ran " in line
        )


def wait_for(condition, timeout: float = 30, step: float = 0.2, *, agent: "AgentProcess | None" = None):
    """Polls until condition() is true. On a timeout the agent's log (when given) is part of the
    failure, since a loaded machine is the usual reason and the log tells which step lagged."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    log = f"\nagent log:\n{agent.text()[-4000:]}" if agent is not None else ""
    raise AssertionError(f"not within {timeout} s: {condition}{log}")
