import secrets
from pathlib import Path

import pytest

from config.celery import BEAT_JOBS, beat_schedule
from config.env import generated_secret_key
from tests.conftest import run_manage

PRINT_SCHEDULE = (
    "from config.celery import app;"
    "print({name: entry['schedule'].total_seconds() for name, entry in app.conf.beat_schedule.items()})"
)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("HEALTH_CHECK_INTERVAL", "soon", "HEALTH_CHECK_INTERVAL must be a whole number"),
        ("ALERT_CHECK_INTERVAL", "1", "ALERT_CHECK_INTERVAL must be at least 5"),
        ("CPU_USAGE_THRESHOLD", "150", "CPU_USAGE_THRESHOLD must be at most 100"),
        ("DEBUG", "maybe", "DEBUG must be one of"),
        (
            "DATABASE_URL",
            "mysql://root@127.0.0.1/vigil",
            "DATABASE_URL must be a postgres:// or sqlite:// URL",
        ),
        ("CELERY_BROKER_URL", "kafka://x", "CELERY_BROKER_URL must be a URL starting with"),
        ("SLACK_NOTIFICATIONS_ENABLED", "1", "SLACK_WEBHOOK_URL must be set"),
        ("MFA_REQUIRED_ROLES", "Administrators,Admins", "MFA_REQUIRED_ROLES must name roles among"),
        ("WEBAUTHN_RP_ID", "https://status.example.com", "WEBAUTHN_RP_ID must be a host name"),
        ("WEBAUTHN_ORIGINS", "status.example.com", "WEBAUTHN_ORIGINS must be a URL"),
    ],
)
def test_it_refuses_a_bad_value_naming_the_variable(variable, value, message):
    result = run_manage("check", env={variable: value})
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_it_requires_a_secret_key_in_production():
    result = run_manage("check", env={"DEBUG": "0", "ALLOWED_HOSTS": "status.example.com", "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_a_process_that_loses_the_race_for_the_generated_key_takes_the_winners(tmp_path, monkeypatch):
    key_file = tmp_path / "secret_key"
    key_file.write_text("the-key-another-process-wrote-first")
    # This process looked before the other one had written: it saw no key file.
    monkeypatch.setattr(Path, "exists", lambda self: False)
    assert generated_secret_key(key_file) == "the-key-another-process-wrote-first"
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]


def test_the_generated_key_is_private_and_kept(tmp_path):
    key_file = tmp_path / "secret_key"
    key = generated_secret_key(key_file)
    assert len(key) >= 50
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert generated_secret_key(key_file) == key


def test_it_requires_allowed_hosts_in_production():
    result = run_manage("check", env={"DEBUG": "0", "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": ""})
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_it_passes_the_deployment_checklist_in_production():
    env = {"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "status.example.com"}
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_it_builds_the_beat_schedule_from_the_intervals():
    intervals = {setting: 7 for _, setting in BEAT_JOBS.values()}
    schedule = beat_schedule(intervals)
    assert set(schedule) == set(BEAT_JOBS)
    assert schedule["heartbeat"]["schedule"].total_seconds() == 7
    assert schedule["heartbeat"]["options"]["expires"] == 7


def test_it_follows_the_environment_in_the_beat_schedule():
    result = run_manage("shell", "--no-imports", "-c", PRINT_SCHEDULE, env={"HEARTBEAT_INTERVAL": "9"})
    assert "'heartbeat': 9.0" in result.stdout, result.stderr


def test_it_runs_sqlite_in_wal_mode_with_a_busy_timeout(tmp_path):
    script = (
        "from django.db import connection; c = connection.cursor();"
        "print(c.execute('PRAGMA journal_mode').fetchone()[0],"
        " c.execute('PRAGMA busy_timeout').fetchone()[0])"
    )
    result = run_manage(
        "shell", "--no-imports", "-c", script, env={"VIGIL_DATA_DIR": str(tmp_path)}, embedded=True
    )
    assert result.stdout.split() == ["wal", "20000"], result.stderr
    assert (tmp_path / "vigil.sqlite3").exists()


def test_it_uses_the_filesystem_broker_and_file_cache_when_embedded(tmp_path):
    script = (
        "from django.conf import settings;"
        "print(settings.CELERY_BROKER_URL, settings.CACHES['default']['BACKEND'])"
    )
    result = run_manage(
        "shell", "--no-imports", "-c", script, env={"VIGIL_DATA_DIR": str(tmp_path)}, embedded=True
    )
    file_cache = "django.core.cache.backends.filebased.FileBasedCache"
    assert result.stdout.split() == ["filesystem://localhost/", file_cache]


def test_it_uses_postgres_and_redis_in_service_mode(tmp_path):
    env = {
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/vigil",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/14",
        "REDIS_URL": "redis://127.0.0.1:6379/15",
    }
    script = (
        "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'],"
        " settings.CACHES['default']['BACKEND'], settings.CELERY_BROKER_URL)"
    )
    result = run_manage("shell", "--no-imports", "-c", script, env=env)
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "core.cache.ResilientRedisCache",
        "redis://127.0.0.1:6379/14",
    ]


def test_it_has_a_task_and_a_management_command_for_every_beat_job():
    from django.core.management import get_commands

    from config.celery import app

    app.loader.import_default_modules()
    commands = get_commands()
    for job, (task, _) in BEAT_JOBS.items():
        assert task in app.tasks, f"{job}: task {task} is not registered"
        assert job in commands, f"{job}: no management command of that name"
