"""Under gevent (the web line of the Procfile) a request's database connection is closed when
the request ends: a persistent one per greenlet would never be reused, and PostgreSQL would run
out of connections under load. Other processes keep CONN_MAX_AGE."""

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.faults.processes import Processes, free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
PRINT_AGE = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.DATABASES['default']['CONN_MAX_AGE'])"
)


def conn_max_age(patched: bool, tmp_path) -> str:
    code = ("from gevent import monkey; monkey.patch_all(); " if patched else "") + PRINT_AGE
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/vigil",
        "CONN_MAX_AGE": "60",
        "VIGIL_DATA_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize(("patched", "age"), [(True, "0"), (False, "60")])
def test_gevent_workers_close_their_connection_after_each_request(patched, age, tmp_path):
    assert conn_max_age(patched, tmp_path) == age


PROBE_SETTINGS = "from config.settings import *  # noqa: F403\nROOT_URLCONF = 'pool_probe_urls'\n"
PROBE_URLS = """
from django.conf import settings
from django.http import JsonResponse
from django.urls import path


def probe(request):
    database = settings.DATABASES["default"]
    return JsonResponse({"pool": database["OPTIONS"].get("pool"), "age": database["CONN_MAX_AGE"]})


urlpatterns = [path("probe", probe)]
"""


def procfile_web_line() -> list[str]:
    line = next(x for x in (ROOT / "Procfile").read_text().splitlines() if x.startswith("web:"))
    words = line.removeprefix("web:").split()
    # The shell defaults (${VAR:-value}) the Procfile leaves to honcho.
    return [w.split(":-", 1)[1].rstrip("}") if w.startswith("${") else w for w in words]


def test_the_procfile_web_workers_get_the_connection_pool(tmp_path):
    """gunicorn's master logs through the redacting logger before it forks the workers: were the
    settings loaded there, the workers would inherit them as computed without gevent."""
    (tmp_path / "pool_probe_settings.py").write_text(PROBE_SETTINGS)
    (tmp_path / "pool_probe_urls.py").write_text(PROBE_URLS)
    port = free_port()
    command = procfile_web_line()
    command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
        "DJANGO_SETTINGS_MODULE": "pool_probe_settings",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/vigil",
        "VIGIL_DATA_DIR": str(tmp_path),
        "SECRET_KEY": "probe-only-" + "x" * 50,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
    }
    processes = Processes(tmp_path, env)
    web = processes.start("gunicorn", [sys.executable, "-m", *command])
    try:
        seen = wait_until(lambda: _probe(port, web), timeout=60, what="gunicorn to answer")
    finally:
        processes.stop_all()
    assert seen["age"] == 0
    assert seen["pool"] is not None and seen["pool"]["max_size"] >= 1


def _probe(port: int, web) -> dict | None:
    if not web.alive():
        raise AssertionError(web.tail())
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/probe", timeout=5) as answer:
            return json.load(answer)
    except OSError:
        return None
