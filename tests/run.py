#!/usr/bin/env python3
"""Run the whole test suite twice: embedded mode, then service mode.

    python tests/run.py              # both modes
    python tests/run.py embedded     # SQLite + filesystem broker + file cache
    python tests/run.py service      # PostgreSQL + Redis on loopback
    python tests/run.py all -k heartbeat   # extra arguments go to pytest

Service mode starts PostgreSQL and Redis when they are installed but stopped. On a machine
without them it is skipped with a loud message, never faked. The last line is the total.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODE_VARIABLES = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL")
SERVICE_ENV = {
    "DATABASE_URL": os.environ.get("VIGIL_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/vigil"),
    "CELERY_BROKER_URL": os.environ.get("VIGIL_TEST_BROKER_URL", "redis://127.0.0.1:6379/14"),
    "REDIS_URL": os.environ.get("VIGIL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
}


def say(message: str) -> None:
    print(f"\n=== {message}", flush=True)


def reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def start_if_down(name: str, port: int, command: list[str]) -> bool:
    if reachable(port):
        return True
    if shutil.which(command[0]) is None:
        return False
    say(f"{name} is not running on 127.0.0.1:{port}; starting it: {' '.join(command)}")
    subprocess.run(command, check=False)
    for _ in range(30):
        if reachable(port):
            return True
        time.sleep(1)
    return False


def services_available() -> bool:
    clusters = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    postgres = start_if_down(
        "PostgreSQL",
        5432,
        ["pg_ctlcluster", "--skip-systemctl-redirect", clusters[-1] if clusters else "15", "main", "start"],
    )
    redis = start_if_down(
        "Redis",
        6379,
        [
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "--port",
            "6379",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
    )
    return postgres and redis


class PytestRun:
    """One mode's pytest process. Started in the background with its output in a log file, or in
    the foreground with its output on the terminal."""

    def __init__(self, mode: str, extra_env: dict, pytest_args: list, results: Path, *, log: Path | None):
        env = {k: v for k, v in os.environ.items() if k not in MODE_VARIABLES}
        self.data_dir = tempfile.mkdtemp(prefix=f"vigil-test-{mode}-")
        env.update(extra_env, VIGIL_DATA_DIR=self.data_dir, VIGIL_TEST_MODE=mode)
        self.mode, self.junit, self.log = mode, results / f"{mode}.xml", log
        where = f" (output in {log.relative_to(ROOT)})" if log else ""
        say(f"{mode} mode: pytest {' '.join(pytest_args)}{where}")
        output = log.open("wb") if log else None
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pytest", f"--junitxml={self.junit}", *pytest_args],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
        )
        if output:
            output.close()

    def wait(self) -> dict:
        if self.log and self.process.poll() is None:
            say(f"waiting for {self.mode} mode to finish")
        code = self.process.wait()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        if self.log:
            say(f"{self.mode} mode output")
            sys.stdout.write(self.log.read_text(errors="replace"))
            sys.stdout.flush()
        counts = {"passed": 0, "failed": 0, "skipped": 0, "exit": code}
        if self.junit.exists():
            for suite in ET.parse(self.junit).getroot().iter("testsuite"):
                total, skipped = int(suite.get("tests", 0)), int(suite.get("skipped", 0))
                failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
                counts["failed"] += failed
                counts["skipped"] += skipped
                counts["passed"] += total - failed - skipped
        if code != 0 and counts["failed"] == 0:
            counts["failed"] = 1  # pytest itself failed (collection error, no tests run)
        return counts


def check_layering() -> bool:
    """The apps' layering (pyproject.toml, docs/architecture.md): an import that points up
    fails the run, and import-linter prints the offending line."""
    say("layering: lint-imports")
    lint_imports = Path(sys.executable).parent / "lint-imports"
    return subprocess.call([str(lint_imports), "--no-cache"], cwd=ROOT) == 0


def main(argv: list[str]) -> int:
    mode = argv[0] if argv and argv[0] in ("all", "embedded", "service") else "all"
    pytest_args = argv[1:] if argv and argv[0] == mode else argv
    pytest_args = pytest_args or ["-q"]
    results = ROOT / "test-results"
    results.mkdir(exist_ok=True)
    outcome: dict[str, dict] = {}
    layered = check_layering()
    service = mode in ("all", "service") and services_available()
    # The two modes share no database, broker, data folder or port, so with both asked for, service
    # mode runs in the background while embedded mode runs on the terminal: on two cores the whole
    # run takes about as long as the slower mode. VIGIL_TEST_ONE_MODE_AT_A_TIME=1 runs them in turn.
    side_by_side = mode == "all" and service and not os.environ.get("VIGIL_TEST_ONE_MODE_AT_A_TIME")
    background = None
    if side_by_side:
        background = PytestRun("service", SERVICE_ENV, pytest_args, results, log=results / "service.log")
    if mode in ("all", "embedded"):
        outcome["embedded"] = PytestRun("embedded", {}, pytest_args, results, log=None).wait()
    if background:
        outcome["service"] = background.wait()
    elif service:
        outcome["service"] = PytestRun("service", SERVICE_ENV, pytest_args, results, log=None).wait()
    elif mode in ("all", "service"):
        print("\n" + "!" * 78)
        print("!!! SERVICE MODE SKIPPED: PostgreSQL (127.0.0.1:5432) or Redis (127.0.0.1:6379)")
        print("!!! is not available and could not be started. Only embedded mode was tested.")
        print("!" * 78 + "\n")
        if os.environ.get("CI") and mode == "service":
            return 1
    say("summary")
    print(f"layering: {'kept' if layered else 'BROKEN (see lint-imports above)'}")
    for name, counts in outcome.items():
        print(f"{name}: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    passed = sum(c["passed"] for c in outcome.values())
    failed = sum(c["failed"] for c in outcome.values())
    skipped = sum(c["skipped"] for c in outcome.values())
    print(f"total: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if not layered or failed or any(c["exit"] not in (0,) for c in outcome.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
