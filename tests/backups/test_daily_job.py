"""The daily beat job: several workers and a redelivered task make one backup and one
verification; retention; the backups check going down when no backup is verified in time."""

import os
import threading
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connections
from django.utils import timezone

from alerts.models import Alert
from backups.engines import BackupError
from backups.models import Backup, BackupVerification
from backups.services import (
    CHECK_JOB,
    backup_create,
    backup_daily,
    backup_files,
    backup_restore,
    backup_verify,
    backups_prune,
)
from backups.tasks import backup as backup_task
from healthchecks.pings.models import Check
from healthchecks.pings.services import checks_sweep

pytestmark = pytest.mark.django_db(transaction=True)


def _check() -> Check:
    return Check.objects.get(builtin_job=CHECK_JOB)


def test_it_makes_one_backup_and_one_verification_when_two_workers_run_the_job_at_once(postgresql):
    start, results = threading.Barrier(2), []

    def worker():
        try:
            start.wait(timeout=10)
            results.append(backup_daily())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == 2
    assert Backup.objects.filter(status=Backup.Status.COMPLETE).count() == 1
    assert BackupVerification.objects.filter(result=BackupVerification.Result.PASSED).count() == 1
    assert len(backup_files()) == 1


def test_it_does_nothing_more_when_the_task_is_delivered_again():
    backup_task()
    second = backup_task()
    assert "a recent one exists" in second and "already passed" in second
    assert (Backup.objects.count(), BackupVerification.objects.count()) == (1, 1)


def test_it_deletes_backups_past_retention_and_keeps_the_newest(settings):
    now = timezone.now()
    for days_ago in (40, 35, 1):
        backup_create(now=now - timedelta(days=days_ago))
    assert backups_prune(now=now) == 2
    assert [backup.taken_at for backup in backup_files()] == [now - timedelta(days=1)]
    assert Backup.objects.exclude(pruned_at=None).count() == 2


def test_it_keeps_the_only_backup_however_old():
    now = timezone.now()
    backup_create(now=now - timedelta(days=90))
    assert (backups_prune(now=now), len(backup_files())) == (0, 1)


def test_it_alerts_when_no_backup_was_verified_within_the_max_age(settings):
    backup_create()
    backup_verify()
    verified_at = _check().last_ping_at
    assert checks_sweep(now=verified_at + timedelta(hours=settings.BACKUP_MAX_AGE_HOURS - 1))["down"] == 0
    assert (
        checks_sweep(now=verified_at + timedelta(hours=settings.BACKUP_MAX_AGE_HOURS, minutes=1))["down"] == 1
    )
    assert Alert.objects.open().filter(fingerprint=_check().fingerprint).count() == 1


def test_it_counts_a_verified_but_old_backup_as_no_verified_backup(settings):
    backup_create(now=timezone.now() - timedelta(hours=settings.BACKUP_MAX_AGE_HOURS + 1))
    assert backup_verify().result == BackupVerification.Result.PASSED
    assert _check().state == Check.State.DOWN


def test_it_takes_the_check_down_when_a_backup_fails(settings, tmp_path):
    (tmp_path / "a-file").write_text("")
    settings.BACKUP_DIR = tmp_path / "a-file" / "backups"
    with pytest.raises(BackupError):
        backup_create()
    assert _check().state == Check.State.DOWN


def test_it_resolves_the_alert_when_a_backup_is_verified_again(settings, tmp_path):
    backup_verify()  # no backup yet: down
    backup_create()
    backup_verify()
    assert (_check().state, Alert.objects.open().count()) == (Check.State.UP, 0)


def test_it_refuses_to_restore_over_a_database_that_has_tables():
    backup_create()
    with pytest.raises(BackupError, match="not empty; pass --force"):
        backup_restore(path=backup_files()[0].path)


def test_it_exits_non_zero_naming_a_missing_backup_file(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("restore", str(tmp_path / "nothing.pgdump"))


def test_it_exits_non_zero_when_verification_fails():
    with pytest.raises(CommandError, match="no finished backup"):
        call_command("backup_verify")


def test_it_names_a_missing_pg_dump(postgresql, settings):
    settings.BACKUP_PG_DUMP = "no-such-pg_dump"
    with pytest.raises(BackupError, match="no-such-pg_dump not found.*BACKUP_PG_DUMP"):
        backup_create()


def test_it_names_a_missing_pg_restore_in_the_verification(postgresql, settings):
    backup_create()
    settings.BACKUP_PG_RESTORE = "no-such-pg_restore"
    assert "no-such-pg_restore not found" in backup_verify().error


def test_it_stops_a_pg_dump_that_runs_past_the_timeout(postgresql, settings, tmp_path):
    slow = tmp_path / "slow_pg_dump"
    slow.write_text("#!/bin/sh\nsleep 30\n")
    os.chmod(slow, 0o755)
    settings.BACKUP_PG_DUMP, settings.BACKUP_TIMEOUT = str(slow), 1
    with pytest.raises(BackupError, match="did not finish within BACKUP_TIMEOUT"):
        backup_create()
    assert list(settings.BACKUP_DIR.iterdir()) == []


def test_it_keeps_the_alert_of_a_failed_daily_backup_open(postgresql, settings):
    backup_create(now=timezone.now() - timedelta(days=1))
    backup_verify()
    settings.BACKUP_PG_DUMP = "no-such-pg_dump"
    assert "verify: skipped" in backup_daily()
    assert Alert.objects.open().filter(fingerprint=_check().fingerprint).count() == 1


def test_it_deletes_what_a_run_that_died_left_behind(backup_dir, settings):
    backup_create()
    leftovers = [backup_dir / ".vigil-x.sqlite3.partial", backup_dir / ".verify-x"]
    leftovers[0].write_text("half")
    leftovers[1].mkdir()
    backups_prune(now=timezone.now() + timedelta(seconds=3 * settings.BACKUP_TIMEOUT + 1))
    assert [path.exists() for path in leftovers] == [False, False]
