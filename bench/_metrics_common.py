"""Shared set-up for the metrics benchmarks: a throw-away PostgreSQL database on loopback."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = os.environ.get("BENCH_DB", "vigil_bench_metrics")
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def bench_env() -> dict:
    data_dir = tempfile.mkdtemp(prefix="vigil-bench-")
    (Path(data_dir) / "static").mkdir()
    return {
        **os.environ,
        "DATABASE_URL": f"{PG}/{BENCH_DB}",
        "VIGIL_DATA_DIR": data_dir,
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
    }


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def create_database(env: dict) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{BENCH_DB}"')
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "-v", "0"], env=env, cwd=ROOT, check=True
    )


def drop_database() -> None:
    _admin(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


def setup_django(env: dict) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
