"""Under gevent (the web line of the Procfile) a request's database connection is closed when
the request ends: a persistent one per greenlet would never be reused, and PostgreSQL would run
out of connections under load. Other processes keep CONN_MAX_AGE."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

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
