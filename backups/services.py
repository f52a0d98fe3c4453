"""Backups: writing one, verifying the newest, restoring one, retention, and the status that
/health/detailed, the console and the API show.

A backup is a file and its manifest (`<file>.json`: size, sha256, engine, the row counts of the
main tables in the copied snapshot). The file is written under a temporary name, synced and
renamed, and the manifest is written the same way after it: a file without a manifest was never
finished and is ignored. One backup and one verification run at a time, claimed by a row that a
partial unique constraint allows only once, so several workers, a redelivered task and a command
run by hand never overlap. Failures and stale backups reach the built-in heartbeat check
"Vigil backups", which raises the alert (docs/backups.md).
"""

import hashlib
import json
import logging
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from backups import engines
from backups.engines import BackupError
from backups.models import Backup, BackupVerification
from healthchecks.pings.models import Ping
from healthchecks.pings.services import builtin_check_report

logger = logging.getLogger(__name__)

CHECK_JOB = "backups"
CHECK_NAME = "Vigil backups: last verified backup"
# The check is down this long after it was due: a verification then has time to finish.
CHECK_GRACE_SECONDS = 2 * 3600
EXTENSIONS = {Backup.Engine.POSTGRESQL: ".pgdump", Backup.Engine.SQLITE: ".sqlite3"}
MANIFEST_FORMAT = 1

Progress = Callable[[str], None]


class BackupBusy(BackupError):
    """Another backup or verification is running (another worker, or a command run by hand)."""


def _quiet(message: str) -> None:
    logger.info(message)


# --- Files and manifests -------------------------------------------------------------------


def backup_folder() -> Path:
    """The backup folder, made if missing; BackupError naming it when it cannot be written."""
    folder = Path(settings.BACKUP_DIR)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise BackupError(
            f"backup folder {folder} is not writable (BACKUP_DIR): {exc.strerror or exc}"
        ) from None
    return folder


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_manifest(path: Path, manifest: dict) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    _fsync(partial)
    os.replace(partial, path)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class BackupFile:
    path: Path
    manifest: dict

    @property
    def taken_at(self) -> datetime:
        return datetime.fromisoformat(self.manifest["created_at"])


def backup_files(folder: Path | None = None) -> list[BackupFile]:
    """The finished backups in the folder (those with a readable manifest), newest first."""
    folder = Path(folder or settings.BACKUP_DIR)
    found = []
    for manifest in folder.glob("vigil-*.json") if folder.is_dir() else []:
        try:
            data = json.loads(manifest.read_text())
            backup = BackupFile(manifest.with_name(data["file"]), data)
            backup.taken_at  # noqa: B018 (a manifest without a readable date is skipped)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("backup manifest %s not read: %s", manifest, exc)
            continue
        found.append(backup)
    return sorted(found, key=lambda backup: backup.taken_at, reverse=True)


def backup_file_check(path: Path) -> dict:
    """The manifest of the backup at `path`, after checking the file against it (size, then
    sha256); BackupError saying what is wrong."""
    manifest_file = manifest_path(path)
    if not path.is_file():
        raise BackupError(f"{path} does not exist")
    try:
        manifest = json.loads(manifest_file.read_text())
    except FileNotFoundError:
        raise BackupError(
            f"{path.name} has no manifest ({manifest_file.name}): it was never finished"
        ) from None
    except (OSError, ValueError) as exc:
        raise BackupError(f"the manifest {manifest_file.name} is not readable: {exc}") from None
    size = path.stat().st_size
    if size != manifest.get("size_bytes"):
        raise BackupError(
            f"{path.name} is {size} bytes but its manifest says {manifest.get('size_bytes')}: "
            "the file is truncated or was changed"
        )
    if sha256_of(path) != manifest.get("sha256"):
        raise BackupError(f"{path.name} does not match the sha256 in its manifest: the file is damaged")
    return manifest


# --- Claims and the built-in check ---------------------------------------------------------


def _abandoned_before(now: datetime) -> datetime:
    # A run is bounded by its subprocesses' timeouts; one still "running" after three of them
    # died with its worker, and would otherwise block every later run.
    return now - timedelta(seconds=3 * settings.BACKUP_TIMEOUT)


def _claim_backup(engine: str, now: datetime) -> Backup:
    Backup.objects.filter(status=Backup.Status.RUNNING, started_at__lt=_abandoned_before(now)).update(
        status=Backup.Status.FAILED, error="abandoned: its worker stopped before it finished", finished_at=now
    )
    try:
        with transaction.atomic():
            return Backup.objects.create(engine=engine, started_at=now)
    except IntegrityError:
        raise BackupBusy("another backup is running") from None


def _claim_verification(now: datetime) -> BackupVerification:
    BackupVerification.objects.filter(
        result=BackupVerification.Result.RUNNING, started_at__lt=_abandoned_before(now)
    ).update(
        result=BackupVerification.Result.FAILED,
        error="abandoned: its worker stopped before it finished",
        finished_at=now,
    )
    try:
        with transaction.atomic():
            return BackupVerification.objects.create(started_at=now)
    except IntegrityError:
        raise BackupBusy("another verification is running") from None


def _report(kind: str, body: str = "") -> None:
    """Tell the built-in check: success is a verified backup within BACKUP_MAX_AGE_HOURS; a
    failure (backup or verification) takes it down at once, with its alert."""
    grace = CHECK_GRACE_SECONDS
    try:
        builtin_check_report(
            job=CHECK_JOB,
            name=CHECK_NAME,
            period_seconds=settings.BACKUP_MAX_AGE_HOURS * 3600 - grace,
            grace_seconds=grace,
            description=(
                "Made by Vigil: each backup verification reports here. Down when a backup or its "
                "verification fails, or when no backup was verified for BACKUP_MAX_AGE_HOURS."
            ),
            kind=kind,
            body=body,
        )
    except Exception as exc:  # the backup itself is done and recorded; reporting must not undo it
        logger.warning("backup check not told (%s): %s", kind, exc)


# --- Backup --------------------------------------------------------------------------------


def backup_create(*, progress: Progress = _quiet, now: datetime | None = None) -> Backup:
    """Write a consistent backup of the database to BACKUP_DIR, with its manifest."""
    now = now or timezone.now()
    settings_dict = dict(connection.settings_dict)
    engine = engines.engine_of(settings_dict)
    backup = _claim_backup(engine, now)
    partial = None
    try:
        folder = backup_folder()
        name = f"vigil-{now:%Y%m%dT%H%M%S}Z-{backup.pk}{EXTENSIONS[engine]}"
        path = folder / name
        partial = folder / f".{name}.partial"
        progress(f"backing up the {engine} database {settings_dict['NAME']} to {path}")
        if engine == Backup.Engine.POSTGRESQL:
            counts = engines.pg_dump(settings_dict, partial)
        else:
            counts = engines.sqlite_backup(settings_dict, partial)
        _fsync(partial)
        size, digest = partial.stat().st_size, sha256_of(partial)
        os.replace(partial, path)
        partial = None
        _write_manifest(
            manifest_path(path),
            {
                "format": MANIFEST_FORMAT,
                "file": name,
                "engine": engine,
                "size_bytes": size,
                "sha256": digest,
                "created_at": now.isoformat(),
                "table_counts": counts,
            },
        )
        _fsync(folder)
    except Exception as exc:
        if partial is not None:
            partial.unlink(missing_ok=True)
        error = str(exc) if isinstance(exc, BackupError) else f"{type(exc).__name__}: {exc}"
        Backup.objects.filter(pk=backup.pk).update(
            status=Backup.Status.FAILED, error=error[:4000], finished_at=timezone.now()
        )
        _report(Ping.Kind.FAIL, f"backup failed: {error}")
        raise BackupError(error) from exc
    Backup.objects.filter(pk=backup.pk).update(
        status=Backup.Status.COMPLETE,
        file_name=name,
        size_bytes=size,
        sha256=digest,
        table_counts=counts,
        finished_at=timezone.now(),
    )
    backup.refresh_from_db()
    progress(
        f"wrote {name} ({size} bytes, sha256 {digest[:12]}...), {sum(counts.values())} rows in main tables"
    )
    return backup


# --- Verify --------------------------------------------------------------------------------


def _restore_and_inspect(path: Path, engine: str, progress: Progress) -> tuple[dict, list]:
    """Restore the backup into a scratch database; its main tables' counts and the migrations
    it lacks. The scratch copy is always removed."""
    settings_dict = dict(connection.settings_dict)
    if engine == Backup.Engine.POSTGRESQL:
        scratch = f"{settings_dict['NAME']}"[:40] + f"_verify_{secrets.token_hex(4)}"
        engines.pg_check_archive(path)
        engines.pg_create_database(settings_dict, scratch)
        try:
            progress(f"restoring into the scratch database {scratch}")
            engines.pg_restore(path, {**settings_dict, "NAME": scratch})
            with engines.database({**settings_dict, "NAME": scratch, "CONN_MAX_AGE": 0}) as wrapper:
                return engines.counts_in(wrapper), engines.migrations_pending(wrapper)
        finally:
            engines.pg_drop_database(settings_dict, scratch)
    folder = Path(tempfile.mkdtemp(dir=path.parent, prefix=".verify-"))
    try:
        copy = folder / "scratch.sqlite3"
        progress(f"restoring into the scratch file {copy}")
        shutil.copyfile(path, copy)
        engines.sqlite_check(copy)
        with engines.database({"ENGINE": "django.db.backends.sqlite3", "NAME": str(copy)}) as wrapper:
            return engines.counts_in(wrapper), engines.migrations_pending(wrapper)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def backup_verify(
    *, path: Path | None = None, progress: Progress = _quiet, now: datetime | None = None
) -> BackupVerification:
    """Restore the newest backup (or `path`) into a scratch database, check its migrations and
    compare its row counts with the manifest's; records the result and tells the check."""
    now = now or timezone.now()
    verification = _claim_verification(now)
    expected, found, pending = {}, {}, []
    taken_at = None
    try:
        if path is None:
            newest = next(iter(backup_files()), None)
            if newest is None:
                raise BackupError(f"no finished backup in {settings.BACKUP_DIR}")
            path = newest.path
        path = Path(path)
        verification.file_name = path.name[:200]
        progress(f"verifying {path}")
        manifest = backup_file_check(path)
        progress("size and sha256 match the manifest")
        expected = manifest.get("table_counts", {})
        taken_at = datetime.fromisoformat(manifest["created_at"])
        engine = manifest.get("engine") or engines.engine_of_file(path)
        here = engines.engine_of(connection.settings_dict)
        if engine != here:
            raise BackupError(f"{path.name} is a {engine} backup; this Vigil runs on {here}")
        found, pending = _restore_and_inspect(path, engine, progress)
        problems = []
        if pending:
            problems.append(
                f"{len(pending)} migration(s) not applied in the backup: {', '.join(pending[:5])}"
            )
        mismatched = [
            f"{table} {expected.get(table)} != {found.get(table)}"
            for table in sorted(set(expected) | set(found))
            if expected.get(table) != found.get(table)
        ]
        if mismatched:
            problems.append("row counts differ (manifest != restored): " + ", ".join(mismatched[:10]))
        result = BackupVerification.Result.FAILED if problems else BackupVerification.Result.PASSED
        error = "; ".join(problems)
    except Exception as exc:
        result = BackupVerification.Result.FAILED
        error = str(exc) if isinstance(exc, BackupError) else f"{type(exc).__name__}: {exc}"
    verification.result = result
    verification.error = error[:4000]
    verification.counts_expected, verification.counts_found = expected, found
    verification.migrations_pending = pending
    verification.backup_taken_at = taken_at
    verification.backup = (
        Backup.objects.filter(file_name=verification.file_name).exclude(file_name="").first()
    )
    verification.finished_at = timezone.now()
    verification.save()
    stale = taken_at is not None and timezone.now() - taken_at > timedelta(
        hours=settings.BACKUP_MAX_AGE_HOURS
    )
    if result == BackupVerification.Result.FAILED:
        progress(f"FAILED: {error}")
        _report(Ping.Kind.FAIL, f"backup verification failed: {verification.file_name}: {error}")
    elif stale:
        progress(
            f"passed, but the backup was taken at {taken_at:%Y-%m-%d %H:%M} UTC, before BACKUP_MAX_AGE_HOURS"
        )
        _report(
            Ping.Kind.FAIL, f"the newest backup ({verification.file_name}) is older than BACKUP_MAX_AGE_HOURS"
        )
    else:
        progress(f"passed: {sum(found.values())} rows in {len(found)} main tables match the manifest")
        _report(Ping.Kind.SUCCESS, f"verified {verification.file_name}")
    return verification


# --- Restore -------------------------------------------------------------------------------


def _release_copied_claims(wrapper) -> None:
    # The backup copied its own claim row (status running) and perhaps a verification's: left
    # as they are they would hold the restored database's next backup off for hours.
    tables = engines.table_names(wrapper)
    note = "was running when the restored backup was taken"
    with wrapper.cursor() as cursor:
        for model, field in ((Backup, "status"), (BackupVerification, "result")):
            table = model._meta.db_table
            if table in tables:
                cursor.execute(
                    f'UPDATE "{table}" SET "{field}" = %s, "error" = %s WHERE "{field}" = %s',
                    ["failed", note, "running"],
                )
        if not wrapper.get_autocommit():
            wrapper.commit()


def backup_restore(
    *, path: Path, target: dict | None = None, force: bool = False, progress: Progress = _quiet
) -> dict[str, int]:
    """Restore the backup at `path` into `target` (database settings; default: Vigil's own
    database). A target with tables is refused unless `force`. Returns the restored main tables'
    counts; BackupError when they differ from the manifest's."""
    path = Path(path)
    target = dict(target or connection.settings_dict)
    if manifest_path(path).exists():
        manifest = backup_file_check(path)
        progress("size and sha256 match the manifest")
    elif path.is_file():
        manifest = {}
        progress(f"warning: no manifest beside {path.name}, so its checksum is not checked")
    else:
        raise BackupError(f"{path} does not exist")
    engine = manifest.get("engine") or engines.engine_of_file(path)
    target_engine = engines.engine_of(target)
    if engine != target_engine:
        raise BackupError(f"{path.name} is a {engine} backup; the target database is {target_engine}")
    if engine == Backup.Engine.POSTGRESQL:
        try:
            with engines.database({**target, "CONN_MAX_AGE": 0}) as wrapper:
                tables = engines.table_names(wrapper)
        except DatabaseError as exc:
            raise BackupError(f"the target database {target['NAME']} cannot be reached: {exc}") from None
    else:
        tables = set() if engines.sqlite_is_empty(str(target["NAME"])) else {"?"}
    if tables and not force:
        raise BackupError(
            f"the target database {target['NAME']} is not empty; pass --force to replace its contents"
        )
    progress(f"restoring {path.name} into {target['NAME']}")
    if engine == Backup.Engine.POSTGRESQL:
        engines.pg_restore(path, target, replace=tables)
    else:
        engines.sqlite_restore(path, str(target["NAME"]))
    with engines.database({**target, "CONN_MAX_AGE": 0}) as wrapper:
        found = engines.counts_in(wrapper)
        _release_copied_claims(wrapper)
    expected = manifest.get("table_counts")
    if expected is not None and expected != found:
        raise BackupError(f"restored, but the row counts differ from the manifest: {expected} != {found}")
    progress(f"restored: {sum(found.values())} rows in {len(found)} main tables")
    return found


# --- Retention and the daily job -----------------------------------------------------------


def backups_prune(*, now: datetime | None = None) -> int:
    """Delete the backups older than BACKUP_RETENTION_DAYS, never the newest one; returns how
    many. Files left half-written by a crash are deleted too."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.BACKUP_RETENTION_DAYS)
    folder = Path(settings.BACKUP_DIR)
    if not folder.is_dir():
        return 0
    removed = []
    for backup in backup_files(folder)[1:]:
        if backup.taken_at < cutoff:
            backup.path.unlink(missing_ok=True)
            manifest_path(backup.path).unlink(missing_ok=True)
            removed.append(backup.path.name)
    # What a run that died left behind: half-written files and SQLite scratch copies.
    abandoned = (now - timedelta(seconds=3 * settings.BACKUP_TIMEOUT)).timestamp()
    for leftover in [*folder.glob(".vigil-*.partial"), *folder.glob(".verify-*")]:
        if leftover.stat().st_mtime < abandoned:
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
    if removed:
        Backup.objects.filter(file_name__in=removed, pruned_at=None).update(pruned_at=now)
    return len(removed)


def backup_daily(*, force: bool = False, now: datetime | None = None) -> str:
    """The beat job: back up, verify the newest backup, prune. A second worker or a redelivered
    task finds the day's backup made (or being made) and its verification done, and does nothing.
    `force` (staff asked for one): back up even when a recent backup exists."""
    now = now or timezone.now()
    done = []
    recent = now - timedelta(seconds=settings.BACKUP_INTERVAL // 2)
    if not force and Backup.objects.filter(status=Backup.Status.COMPLETE, started_at__gte=recent).exists():
        done.append("backup: a recent one exists")
    else:
        try:
            done.append(f"backup: {backup_create(now=now).file_name}")
        except BackupBusy as exc:
            return f"nothing done: {exc}"
        except BackupError as exc:
            # Verifying an older backup now would ping success and resolve the alert this
            # failure just raised; it stays open until a backup works again.
            done.append(f"backup FAILED: {exc}")
            return "; ".join([*done, "verify: skipped", f"pruned {backups_prune(now=now)}"])
    newest = next(iter(backup_files()), None)
    if newest is None:
        done.append("verify: no backup")
    elif BackupVerification.objects.filter(
        file_name=newest.path.name, result=BackupVerification.Result.PASSED
    ).exists():
        done.append(f"verify: {newest.path.name} already passed")
    else:
        try:
            done.append(f"verify: {backup_verify(path=newest.path).result}")
        except BackupBusy as exc:
            done.append(f"verify: {exc}")
    done.append(f"pruned {backups_prune(now=now)}")
    return "; ".join(done)


def backup_verify_again(*, backup_id: int) -> str:
    """Verify one recorded backup's file again (the console's action)."""
    backup = Backup.objects.filter(pk=backup_id, status=Backup.Status.COMPLETE, pruned_at=None).first()
    if backup is None:
        return f"backup {backup_id}: no such finished backup with its file kept"
    try:
        verification = backup_verify(path=Path(settings.BACKUP_DIR) / backup.file_name)
    except BackupBusy as exc:
        return f"backup {backup_id}: {exc}"
    return f"backup {backup_id}: {verification.result}"


def backup_status(*, now: datetime | None = None) -> dict:
    """The last verified backup and its age, and the last backup and verification runs."""
    now = now or timezone.now()
    verified = (
        BackupVerification.objects.filter(result=BackupVerification.Result.PASSED)
        .exclude(backup_taken_at=None)
        .order_by("-backup_taken_at")
        .first()
    )
    last_backup = Backup.objects.exclude(status=Backup.Status.RUNNING).first()
    last_verification = BackupVerification.objects.exclude(result=BackupVerification.Result.RUNNING).first()
    age = (now - verified.backup_taken_at).total_seconds() if verified else None
    return {
        "last_verified_backup": verified.file_name if verified else None,
        "last_verified_backup_at": verified.backup_taken_at if verified else None,
        "age_seconds": round(age) if age is not None else None,
        "max_age_hours": settings.BACKUP_MAX_AGE_HOURS,
        "fresh": age is not None and age <= settings.BACKUP_MAX_AGE_HOURS * 3600,
        "last_backup": last_backup,
        "last_verification": last_verification,
    }
