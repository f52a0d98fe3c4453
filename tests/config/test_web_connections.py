"""Database connections of the web server. The Procfile's (granian) serves requests on a fixed
set of threads per worker, each keeping its connection (CONN_MAX_AGE), so connections are
reused and bounded by workers x threads. Under gevent (a gunicorn line an operator may still
run) a request's connection is closed when the request ends instead: a persistent one per
greenlet would never be reused, and PostgreSQL would run out of connections under load."""

import concurrent.futures
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
from django.db import connection
from django.http import JsonResponse
from django.urls import path


def probe(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return JsonResponse({"backend": cursor.fetchone()[0]})


urlpatterns = [path("probe", probe)]
"""
WORKERS, THREADS, REQUESTS = 2, 3, 120


def test_the_procfile_web_server_reuses_a_bounded_set_of_connections(tmp_path):
    (tmp_path / "pool_probe_settings.py").write_text(PROBE_SETTINGS)
    (tmp_path / "pool_probe_urls.py").write_text(PROBE_URLS)
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
        "DJANGO_SETTINGS_MODULE": "pool_probe_settings",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
        "VIGIL_DATA_DIR": str(tmp_path),
        "VIGIL_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(WORKERS),
        "WEB_THREADS": str(THREADS),
        "SECRET_KEY": "probe-only-" + "x" * 50,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
    }
    command = (ROOT / "Procfile").read_text().split("web:", 1)[1].splitlines()[0].split()
    assert command == ["python", "-m", "config.web"]
    processes = Processes(tmp_path, env)
    web = processes.start("web", [sys.executable, *command[1:]])
    try:
        wait_until(lambda: _probe(port, web), timeout=60, what="the web server to answer")
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            backends = set(pool.map(lambda _: _probe(port, web)["backend"], range(REQUESTS)))
    finally:
        processes.stop_all()
    assert 1 <= len(backends) <= WORKERS * THREADS


def _probe(port: int, web) -> dict | None:
    if not web.alive():
        raise AssertionError(web.tail())
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/probe", timeout=5) as answer:
            return json.load(answer)
    except OSError:
        return None
