"""A real backup -> verify -> restore round trip on each engine, with rows written while the
backup runs: the backup holds exactly the rows of one moment, and the restore gives them back."""

import json
import sqlite3
import threading
import time

import pytest
from django.db import connection, connections

from backups import engines
from backups.models import BackupVerification
from backups.services import backup_create, backup_files, backup_restore, backup_verify
from statuspage.models import Component
from tests.conftest import run_manage
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_for(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


class Writer(threading.Thread):
    """Writes rows, one transaction each, until stopped; `written` counts them."""

    def __init__(self, write):
        super().__init__(daemon=True)
        self.write, self.written, self.stop = write, 0, threading.Event()

    def run(self):
        try:
            while not self.stop.is_set():
                self.write()
                self.written += 1
        finally:
            connections.close_all()

    def finish(self):
        self.stop.set()
        self.join(timeout=30)


def test_it_round_trips_postgresql_with_rows_written_during_the_backup(postgresql):
    ComponentFactory.create_batch(10)
    writer = Writer(lambda: ComponentFactory())
    writer.start()
    _wait_for(lambda: writer.written >= 10)
    backup = backup_create()
    after_backup = writer.written
    _wait_for(lambda: writer.written >= after_backup + 10)
    writer.finish()
    in_backup = backup.table_counts["statuspage_component"]
    assert 20 <= in_backup < Component.objects.count()

    verification = backup_verify()
    assert verification.result == BackupVerification.Result.PASSED, verification.error
    assert verification.counts_found == backup.table_counts

    target = {**connection.settings_dict, "NAME": f"{connection.settings_dict['NAME']}_restored"}
    engines.pg_drop_database(connection.settings_dict, target["NAME"])
    engines.pg_create_database(connection.settings_dict, target["NAME"])
    try:
        assert backup_restore(path=backup_files()[0].path, target=target) == backup.table_counts
    finally:
        engines.pg_drop_database(connection.settings_dict, target["NAME"])


def test_it_round_trips_sqlite_with_rows_written_during_the_backup(sqlite, tmp_path):
    # A deployment's own file in WAL mode, written by another process while `backup` runs.
    env = {"VIGIL_DATA_DIR": str(tmp_path / "data")}
    assert run_manage("migrate", "-v0", env=env, embedded=True, timeout=300).returncode == 0
    database = sqlite3.connect(tmp_path / "data" / "vigil.sqlite3", timeout=30, check_same_thread=False)

    def add_user():
        with database:
            database.execute(
                "INSERT INTO auth_user (password, username, is_superuser, first_name, last_name, email,"
                " is_staff, is_active, date_joined) VALUES ('', ?, 0, '', '', '', 0, 1, '2026-01-01')",
                [f"user-{time.monotonic_ns()}"],
            )

    writer = Writer(add_user)
    writer.start()
    _wait_for(lambda: writer.written >= 20)
    backed_up = run_manage("backup", env=env, embedded=True)
    after_backup = writer.written
    _wait_for(lambda: writer.written >= after_backup + 20)
    writer.finish()
    assert backed_up.returncode == 0, backed_up.stderr
    total = database.execute("SELECT COUNT(*) FROM auth_user").fetchone()[0]
    manifest = json.loads(next((tmp_path / "data" / "backups").glob("vigil-*.json")).read_text())
    in_backup = manifest["table_counts"]["auth_user"]
    assert 20 <= in_backup < total

    verified = run_manage("backup_verify", env=env, embedded=True)
    assert (verified.returncode, "backup verified" in verified.stdout) == (0, True), verified.stderr

    restored_file = tmp_path / "restored.sqlite3"
    backup_file = tmp_path / "data" / "backups" / manifest["file"]
    restored = run_manage("restore", str(backup_file), "--target", str(restored_file), env=env, embedded=True)
    assert restored.returncode == 0, restored.stderr
    with sqlite3.connect(restored_file) as copy:
        assert copy.execute("SELECT COUNT(*) FROM auth_user").fetchone()[0] == in_backup


@pytest.fixture
def empty_target(tmp_path):
    """A database of the test's engine with no tables, removed afterwards."""
    if connection.vendor == "sqlite":
        yield {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "target.sqlite3")}
        return
    target = {**connection.settings_dict, "NAME": f"{connection.settings_dict['NAME']}_target"}
    engines.pg_drop_database(connection.settings_dict, target["NAME"])
    engines.pg_create_database(connection.settings_dict, target["NAME"])
    yield target
    engines.pg_drop_database(connection.settings_dict, target["NAME"])


def test_it_replaces_a_non_empty_target_only_when_forced(empty_target):
    ComponentFactory.create_batch(3)
    backup = backup_create()
    path = backup_files()[0].path
    backup_restore(path=path, target=empty_target)
    with pytest.raises(engines.BackupError, match="not empty"):
        backup_restore(path=path, target=empty_target)
    assert backup_restore(path=path, target=empty_target, force=True) == backup.table_counts


def test_a_forced_restore_that_fails_leaves_the_target_as_it_was(empty_target, tmp_path, settings):
    if connection.vendor == "sqlite":
        pytest.skip("the drop-and-restore transaction is PostgreSQL's")
    import shutil

    ComponentFactory.create_batch(2)
    backup_create()
    path = backup_files()[0].path
    backup_restore(path=path, target=empty_target)
    # The real psql, with one failing statement after the restore script: the whole transaction
    # (the drop of the old tables included) must roll back.
    failing = tmp_path / "psql-then-fail"
    failing.write_text(f'#!/bin/sh\nexec {shutil.which("psql")} "$@" --command "SELECT 1/0"\n')
    failing.chmod(0o755)
    settings.BACKUP_PSQL = str(failing)
    with pytest.raises(engines.BackupError, match="division by zero"):
        backup_restore(path=path, target=empty_target, force=True)
    with engines.database({**empty_target, "CONN_MAX_AGE": 0}) as wrapper:
        assert engines.counts_in(wrapper)["statuspage_component"] == 2


def test_it_prints_what_each_command_does(empty_target, capsys):
    from django.core.management import call_command

    call_command("backup")
    call_command("backup_verify")
    call_command("restore", str(backup_files()[0].path), "--target", _as_target(empty_target))
    out = capsys.readouterr().out
    assert [text in out for text in ("backup written", "backup verified", "restored vigil-")] == [True] * 3


def _as_target(settings_dict: dict) -> str:
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return settings_dict["NAME"]
    user, host, port = settings_dict["USER"], settings_dict["HOST"], settings_dict["PORT"]
    return f"postgres://{user}@{host}:{port or 5432}/{settings_dict['NAME']}"
