"""backup and backup_verify on the test database of either mode: the manifest, the checks that
find a damaged file, the record and the built-in check."""

import hashlib
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Alert
from backups.engines import BackupError
from backups.models import Backup, BackupVerification
from backups.services import (
    CHECK_JOB,
    BackupBusy,
    _claim_backup,
    backup_create,
    backup_files,
    backup_verify,
    manifest_path,
)
from healthchecks.pings.models import Check
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _file(backup: Backup):
    return backup.file_name and backup_files()[0].path


def _check_alert_open() -> bool:
    check = Check.objects.get(builtin_job=CHECK_JOB)
    return Alert.objects.open().filter(fingerprint=check.fingerprint).exists()


def test_it_writes_a_backup_and_a_manifest_with_its_size_sha256_and_counts():
    ComponentFactory.create_batch(3)
    backup = backup_create()
    manifest = json.loads(manifest_path(_file(backup)).read_text())
    assert (backup.status, manifest["size_bytes"], manifest["sha256"]) == (
        Backup.Status.COMPLETE,
        _file(backup).stat().st_size,
        backup.sha256,
    )
    assert manifest["table_counts"]["statuspage_component"] == 3


def test_it_leaves_no_partial_file_behind(backup_dir):
    path = _file(backup_create())
    assert sorted(backup_dir.iterdir()) == [path, manifest_path(path)]


def test_it_verifies_the_newest_backup_and_records_the_counts():
    ComponentFactory.create_batch(2)
    backup_create()
    verification = backup_verify()
    assert verification.result == BackupVerification.Result.PASSED, verification.error
    assert verification.counts_found["statuspage_component"] == 2
    assert verification.counts_found == verification.counts_expected


def test_it_tells_the_backups_check_that_a_backup_was_verified():
    backup_create()
    backup_verify()
    assert Check.objects.get(builtin_job=CHECK_JOB).state == Check.State.UP


def test_it_detects_a_corrupted_backup_and_alerts():
    ComponentFactory.create_batch(2)
    path = _file(backup_create())
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    verification = backup_verify()
    assert verification.result == BackupVerification.Result.FAILED
    assert "sha256" in verification.error
    assert _check_alert_open()


def test_it_detects_a_truncated_backup():
    path = _file(backup_create())
    with path.open("r+b") as file:
        file.truncate(path.stat().st_size // 2)
    verification = backup_verify()
    assert verification.result == BackupVerification.Result.FAILED
    assert "truncated" in verification.error


def test_it_detects_a_damaged_file_whose_manifest_was_made_to_agree():
    # The restore itself must find the damage, not only the checksum.
    ComponentFactory.create_batch(5)
    path = _file(backup_create())
    with path.open("r+b") as file:
        file.truncate(path.stat().st_size // 2)
    manifest = json.loads(manifest_path(path).read_text())
    manifest.update(size_bytes=path.stat().st_size, sha256=hashlib.sha256(path.read_bytes()).hexdigest())
    manifest_path(path).write_text(json.dumps(manifest))
    verification = backup_verify()
    assert verification.result == BackupVerification.Result.FAILED
    assert "sha256" not in verification.error and verification.error


def test_it_fails_a_verification_when_there_is_no_backup():
    verification = backup_verify()
    assert (verification.result, "no finished backup" in verification.error) == (
        BackupVerification.Result.FAILED,
        True,
    )


def test_it_ignores_a_backup_file_without_a_manifest(backup_dir):
    backup_create()
    older = backup_files()[0].path
    (backup_dir / "vigil-29990101T000000Z-9.sqlite3").write_bytes(b"never finished")
    assert [backup.path for backup in backup_files()] == [older]


def test_it_names_an_unwritable_folder_and_records_the_failure(settings, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    settings.BACKUP_DIR = blocker / "backups"
    with pytest.raises(BackupError, match="is not writable"):
        backup_create()
    assert Backup.objects.get().status == Backup.Status.FAILED


def test_it_lets_one_backup_run_at_a_time():
    _claim_backup(Backup.Engine.SQLITE, timezone.now())
    with pytest.raises(BackupBusy):
        backup_create()


def test_it_releases_the_claim_of_a_backup_whose_worker_died():
    Backup.objects.create(engine=Backup.Engine.SQLITE, started_at=timezone.now() - timedelta(days=1))
    assert backup_create().status == Backup.Status.COMPLETE
    assert Backup.objects.filter(status=Backup.Status.FAILED, error__startswith="abandoned").count() == 1


def test_it_gives_pg_dump_the_password_in_its_environment_not_on_its_command_line():
    from backups import engines

    settings_dict = {"NAME": "vigil", "USER": "vigil", "PASSWORD": "s3cret-pw", "HOST": "db", "PORT": 5432}
    assert (
        "s3cret-pw" not in " ".join(engines._pg_target(settings_dict)),
        engines._pg_env(settings_dict)["PGPASSWORD"],
    ) == (True, "s3cret-pw")
