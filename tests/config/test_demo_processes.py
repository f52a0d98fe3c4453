"""The README's first command as a newcomer runs it: `manage.py demo` starts honcho with the
Procfile (web, worker, beat) on a loopback port, embedded mode, in a data folder of its own.
Every process is stopped by its pid when the test ends."""

import re
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.faults.processes import MODE_VARIABLES, Processes, free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
MAIL_LINE = re.compile(r"Mail \(confirmation links and all\): (\S+)/")


class Demo:
    def __init__(self, processes: Processes, workdir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data = workdir / "data"
        self.process = processes.start(
            "demo",
            [sys.executable, str(ROOT / "manage.py"), "demo"],
            env={"VIGIL_BIND": f"127.0.0.1:{self.port}", "PUBLIC_URL": self.url},
            stop_signal=signal.SIGINT,
        )
        wait_until(self.live, timeout=120, what="the demo's web server to answer /health/live")
        self.process.wait_for_output("ready.", timeout=60)  # the Celery worker
        self.process.wait_for_output("beat: Starting", timeout=60)

    def live(self) -> bool:
        if not self.process.alive():
            raise AssertionError(f"the demo exited:\n{self.process.tail()}")
        try:
            return requests.get(f"{self.url}/health/live", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def mail_folder(self) -> Path:
        return Path(MAIL_LINE.search(self.process.output()).group(1))


@pytest.fixture
def demo(tmp_path) -> Demo:
    import os

    env = {k: v for k, v in os.environ.items() if k not in (*MODE_VARIABLES, "EMAIL_URL")}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    (tmp_path / "data").mkdir()
    env.update(VIGIL_DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1", LOG_LEVEL="INFO")
    processes = Processes(tmp_path, env)
    try:
        yield Demo(processes, tmp_path)
    finally:
        processes.stop_all()


def _subscriber_status(demo: Demo, email: str) -> str | None:
    with sqlite3.connect(demo.data / "vigil.sqlite3") as db:
        row = db.execute("SELECT status FROM statuspage_subscriber WHERE email = ?", (email,)).fetchone()
    return row and row[0]


def test_it_confirms_a_subscription_from_the_mail_the_demo_writes(demo):
    page = requests.get(f"{demo.url}/", timeout=10).text
    assert 'action="/api/status/subscribe"' in page
    subscribed = requests.post(
        f"{demo.url}/api/status/subscribe",
        data={"email": "newcomer@example.com"},
        headers={"Origin": demo.url},
        timeout=10,
    )
    assert subscribed.status_code in (200, 201, 202), subscribed.text
    folder = demo.mail_folder()
    mail = wait_until(
        lambda: [p.read_text() for p in folder.glob("*") if "newcomer@example.com" in p.read_text()],
        timeout=60,
        what=f"the confirmation mail in {folder}",
    )[0]
    link = re.search(rf"{re.escape(demo.url)}/api/status/confirm/[A-Za-z0-9_-]+", mail).group(0)
    assert "Confirm" in requests.get(link, timeout=10).text
    confirmed = requests.post(link, headers={"Origin": demo.url}, timeout=10)
    assert confirmed.status_code == 200, confirmed.text
    assert _subscriber_status(demo, "newcomer@example.com") == "confirmed"
    token = link.rsplit("/", 1)[1]
    # The access log is written in batches, at most a second late.
    wait_until(lambda: "/api/status/confirm/…" in demo.process.output(), timeout=10, what="the access log")
    assert token not in demo.process.output()


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_it_stops_every_process_quietly(demo, stop_signal):
    pids = demo.process.tree()
    assert len(pids) >= 4  # honcho, and under it web, worker and beat
    start = len(demo.process.output())
    started = time.monotonic()
    demo.process.popen.send_signal(stop_signal)
    demo.process.popen.wait(15)
    wait_until(lambda: not any(_running(pid) for pid in pids), timeout=15, what="every demo process to exit")
    took = time.monotonic() - started
    shutdown_log = demo.process.output()[start:]
    assert "ERROR" not in shutdown_log, shutdown_log
    # Every process stopped by itself: nothing was left for honcho to kill.
    assert "SIGKILL" not in shutdown_log, shutdown_log
    assert took < 15, f"stopping took {took:.1f} s:\n{shutdown_log}"


def _running(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
