"""Fault injection: real processes (web, worker, beat, Redis, PostgreSQL) started, killed and
restarted by pid while Vigil works. Service mode only: they need PostgreSQL, redis-server and
the PostgreSQL server binaries on this machine."""

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings

from tests.faults.processes import MODE_VARIABLES, POSTGRES_BIN, Processes, SmtpSink


def _missing() -> str | None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql" or not (
        settings.CELERY_BROKER_URL.startswith("redis://")
    ):
        return "fault injection runs in service mode only (PostgreSQL + Redis): tests/run.py service"
    if shutil.which("redis-server") is None:
        return "redis-server is not installed"
    if not (POSTGRES_BIN / "initdb").exists():
        return f"the PostgreSQL server binaries are not in {POSTGRES_BIN}"
    return None


def pytest_collection_modifyitems(config, items):
    problem = _missing()
    for item in items:
        if "tests/faults" not in str(item.fspath):
            continue
        item.add_marker(pytest.mark.service)
        if problem is None:
            continue
        if os.environ.get("CI") and os.environ.get("VIGIL_TEST_MODE") == "service":
            raise pytest.UsageError(f"fault-injection tests cannot run in CI's service mode: {problem}")
        item.add_marker(pytest.mark.skip(reason=problem))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    processes = item.funcargs.get("processes") if hasattr(item, "funcargs") else None
    if report.failed and processes is not None:
        for title, text in processes.report():
            report.sections.append((title, text))


def _base_env(workdir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in MODE_VARIABLES}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    data = workdir / "data"
    data.mkdir(exist_ok=True)
    env.update(VIGIL_DATA_DIR=str(data), PYTHONUNBUFFERED="1", LOG_LEVEL="INFO", DEBUG="1")
    return env


@pytest.fixture
def processes(tmp_path):
    """Start processes with `processes.start(...)` (or .redis(), .worker(), ...); every one is
    stopped by its pid when the test ends, and a failed test shows their logs."""
    procs = Processes(tmp_path, _base_env(tmp_path))
    yield procs
    procs.stop_all()


@pytest.fixture
def test_database_url() -> str:
    """The test database as a URL, for processes that must see what the test commits
    (use with django_db(transaction=True))."""
    from django.db import connection

    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def smtp_sink():
    sink = SmtpSink()
    yield sink
    sink.stop()
