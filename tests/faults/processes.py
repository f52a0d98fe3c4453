"""Real processes for the fault-injection tests: Redis, PostgreSQL, Celery worker and beat,
the web server, and an SMTP sink, all on loopback.

Every process is started by `Processes.start` with its output in a log file, waited for until it
answers, and stopped by its own pid (SIGTERM, then SIGKILL) when the test ends, failed or not.
Nothing here ever stops a process by name, and nothing touches the shared PostgreSQL or Redis.
"""

import asyncio
import contextlib
import email.policy
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from email.parser import BytesHeaderParser
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
# Variables that pick the mode; a subprocess gets the ones its test gives it, never the runner's.
MODE_VARIABLES = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL")
POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], object], *, timeout: float, what: str, every: float = 0.1):
    """Poll `condition` until it returns something true; fail naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Process:
    """One started process: its pid, its log file, and ways to stop it by that pid."""

    def __init__(self, name: str, popen: subprocess.Popen, log: Path, stop_signal: int = signal.SIGTERM):
        self.name, self.popen, self.log = name, popen, log
        # What a test's teardown sends: the quick shutdown of each program, not its graceful one.
        self.stop_signal = stop_signal

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tree(self) -> list[int]:
        """This process and its children (a Celery worker's pool, the web server's workers), parent first."""
        try:
            parent = psutil.Process(self.pid)
            return [self.pid, *(child.pid for child in parent.children(recursive=True))]
        except psutil.NoSuchProcess:
            return []

    def kill_tree(self) -> list[int]:
        """SIGKILL this process and each of its children, by pid: a crash, nothing cleaned up."""
        pids = self.tree()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.popen.wait(10)
        for pid in pids[1:]:
            with contextlib.suppress(psutil.NoSuchProcess):
                psutil.Process(pid).wait(10)
        return pids

    def stop(self, sig: int | None = None, timeout: float = 10) -> None:
        if not self.alive():
            return
        sig = sig or self.stop_signal
        children = self.tree()[1:]
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, sig)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self.popen.wait(5)
        # Children a parent left behind (it was killed, or did not wait for them).
        for pid in children:
            with contextlib.suppress(psutil.NoSuchProcess, ProcessLookupError):
                proc = psutil.Process(pid)
                proc.kill()
                proc.wait(5)

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def wait_for_output(self, text: str, *, timeout: float, start: int = 0) -> None:
        """Wait until the log shows `text` after byte offset `start`."""

        def seen() -> bool:
            if not self.alive():
                raise AssertionError(f"{self.name} exited ({self.popen.returncode}):\n{self.tail()}")
            try:
                return text.encode() in self.log.read_bytes()[start:]
            except OSError:
                return False

        wait_until(seen, timeout=timeout, what=f"{self.name} to print {text!r}")


class Processes:
    """The processes of one test. `stop_all` (the fixture's teardown) stops each by its pid,
    newest first; `report` gives their log tails for a failed test."""

    def __init__(self, workdir: Path, env: dict):
        self.workdir = workdir
        self.env = env
        self.started: list[Process] = []
        self.cleanups: list[Callable[[], None]] = []

    def start(
        self,
        name: str,
        argv: list[str],
        *,
        env: dict | None = None,
        user: str | None = None,
        cwd=ROOT,
        stop_signal: int = signal.SIGTERM,
    ) -> Process:
        log = self.workdir / f"{name}.log"
        handle = open(log, "ab")  # noqa: SIM115 (the child writes to it for its whole life)
        extra = {"user": user, "group": pwd.getpwnam(user).pw_gid} if user else {}
        popen = subprocess.Popen(
            argv,
            env={**self.env, **(env or {})},
            cwd=cwd,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            **extra,
        )
        handle.close()
        process = Process(name, popen, log, stop_signal)
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in reversed(self.started):
            process.stop()
        for cleanup in reversed(self.cleanups):
            with contextlib.suppress(Exception):
                cleanup()

    def report(self) -> list[tuple[str, str]]:
        latest = {p.log: p for p in self.started}  # a restarted service appends to one log
        return [(f"log of {p.name} (pid {p.pid})", p.tail()) for p in latest.values()]

    # --- the services ---------------------------------------------------------------------

    def redis(self, name: str = "redis", port: int | None = None) -> "Redis":
        return Redis(self, name, port or free_port())

    def postgres(self, name: str = "postgres") -> "Postgres":
        return Postgres(self, name)

    def django(self, name: str, *args: str, env: dict | None = None) -> Process:
        return self.start(name, [sys.executable, str(ROOT / "manage.py"), *args], env=env)

    def run_python(self, name: str, code: str, *, env: dict | None = None, timeout: float = 120) -> str:
        """Run `code` in a fresh Django process (manage.py shell) and wait for it; returns its output."""
        process = self.django(name, "shell", "--no-imports", "-c", code, env=env)
        try:
            status = process.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            process.stop()
            raise AssertionError(f"{name} did not finish in {timeout:g} s:\n{process.tail()}") from None
        if status != 0:
            raise AssertionError(f"{name} failed ({status}):\n{process.tail()}")
        return process.output()

    def worker(self, name: str = "worker", *, concurrency: int = 2, env: dict | None = None) -> Process:
        process = self.start(
            name,
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                str(concurrency),
                "--hostname",
                f"{name}@%h",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "INFO",
            ],
            env=env,
            stop_signal=signal.SIGQUIT,
        )
        process.wait_for_output("ready.", timeout=60)
        return process

    def beat(self, name: str = "beat", *, env: dict | None = None, schedule: Path | None = None) -> Process:
        schedule = schedule or self.workdir / f"{name}-schedule"
        process = self.start(
            name,
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "--loglevel",
                "INFO",
                "-s",
                str(schedule),
            ],
            env=env,
            stop_signal=signal.SIGQUIT,
        )
        process.wait_for_output("beat: Starting", timeout=60)
        return process

    def web(self, name: str = "web", *, env: dict | None = None) -> "Web":
        port = free_port()
        process = self.start(
            name,
            # The Procfile's web server, with one worker of four threads.
            [sys.executable, "-m", "config.web"],
            env={
                "VIGIL_BIND": f"127.0.0.1:{port}",
                "WEB_CONCURRENCY": "1",
                "WEB_THREADS": "4",
                **(env or {}),
            },
            stop_signal=signal.SIGINT,
        )
        web = Web(process, port)
        wait_until(web.live, timeout=60, what=f"{name} to answer /health/live")
        return web


class Redis:
    """A private redis-server: no persistence, loopback only, its own port."""

    def __init__(self, processes: Processes, name: str, port: int):
        self.processes, self.name, self.port = processes, name, port
        self.process: Process | None = None
        self.start()

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        argv = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        log = self.processes.workdir / f"{self.name}.log"
        start = log.stat().st_size if log.exists() else 0  # a restart appends to the same log
        self.process = self.processes.start(self.name, argv)
        self.process.wait_for_output("Ready to accept connections", timeout=20, start=start)

    def kill(self) -> None:
        """SIGKILL by pid: the server is gone at once, its port refuses connections."""
        self.process.kill_tree()
        wait_until(lambda: not port_open(self.port), timeout=5, what="the Redis port to close")


class Postgres:
    """A private PostgreSQL cluster in a temporary folder, its postmaster run in the foreground
    (so its pid is ours) as the postgres user when the tests run as root (initdb refuses root)."""

    def __init__(self, processes: Processes, name: str):
        self.processes, self.name = processes, name
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None
        # Not under pytest's tmp_path: its parents are private to root, and the server runs as postgres.
        self.folder = Path(tempfile.mkdtemp(prefix="vigil-faults-pg-"))
        processes.cleanups.append(lambda: shutil.rmtree(self.folder, ignore_errors=True))
        if self.user:
            shutil.chown(self.folder, self.user, self.user)
        self.data = self.folder / "data"
        initdb = processes.start(
            f"{name}-initdb",
            [
                str(POSTGRES_BIN / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
            ],
            user=self.user,
            cwd=self.folder,
        )
        if initdb.popen.wait(120) != 0:
            raise AssertionError(f"initdb failed:\n{initdb.tail()}")
        self.process: Process | None = None
        self.start()

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        argv = [
            str(POSTGRES_BIN / "postgres"),
            "-D",
            str(self.data),
            "-p",
            str(self.port),
            "-k",
            str(self.folder),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",  # a throw-away cluster; the tests are about restarts, not disk crashes
        ]
        # SIGINT: fast shutdown (SIGTERM's smart shutdown would wait for every client to leave).
        log = self.processes.workdir / f"{self.name}.log"
        start = log.stat().st_size if log.exists() else 0  # a restart appends to the same log
        self.process = self.processes.start(
            self.name, argv, user=self.user, cwd=self.folder, stop_signal=signal.SIGINT
        )
        self.process.wait_for_output("ready to accept connections", timeout=60, start=start)

    def fast_restart(self) -> float:
        """What `pg_ctl restart -m fast` does: SIGINT to the postmaster (every session is cut
        and its transaction rolled back), wait for it to exit, start again. Returns the seconds
        the server was unreachable."""
        started = time.monotonic()
        self.process.stop(timeout=30)
        self.start()
        return time.monotonic() - started

    def sql(self, database: str, statement: str):
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True, connect_timeout=5) as conn:
            rows = conn.execute(statement)
            return rows.fetchall() if rows.description else None


class Web:
    def __init__(self, process: Process, port: int):
        self.process, self.port = process, port

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def live(self) -> bool:
        import requests

        if not self.process.alive():
            raise AssertionError(f"{self.process.name} exited:\n{self.process.tail()}")
        try:
            return requests.get(self.url("/health/live"), timeout=2).status_code == 200
        except requests.RequestException:
            return False


# --- an SMTP sink that counts mails per recipient ---------------------------------------------


class SmtpSink:
    """aiosmtpd on loopback, in a thread of the test process, counting accepted mails per
    recipient and subject. `hold()` makes every later RCPT wait until `release()`: a slow mail
    server, so a test can kill a sender at a known point (before the server accepted the mail)."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        logging.getLogger("mail.log").setLevel(logging.WARNING)  # a line per SMTP command otherwise
        self.lock = threading.Lock()
        self.per_recipient: Counter = Counter()
        self.subjects: list[tuple[str, str]] = []
        self.held = 0
        self._holding = False
        self._release: asyncio.Event | None = None
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())
        self.controller.start()
        self.port = self.controller.port

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def total(self) -> int:
        with self.lock:
            return sum(self.per_recipient.values())

    def counts(self) -> Counter:
        with self.lock:
            return Counter(self.per_recipient)

    def hold(self) -> None:
        self._release = asyncio.Event()
        self._holding = True

    def release(self) -> None:
        self._holding = False
        event = self._release
        if event is not None:
            self.controller.loop.call_soon_threadsafe(event.set)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self._holding:
            with self.lock:
                self.held += 1
            await self._release.wait()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        headers = BytesHeaderParser(policy=email.policy.default).parsebytes(envelope.content)
        subject = str(headers["Subject"] or "")
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.per_recipient[rcpt] += 1
                self.subjects.append((rcpt, subject))
        return "250 Message accepted"

    def stop(self) -> None:
        self.release()
        with contextlib.suppress(Exception):
            self.controller.stop()
