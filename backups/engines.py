"""How each database engine is copied, restored and counted.

PostgreSQL: `pg_dump -Fc` run inside a snapshot exported by a REPEATABLE READ transaction that also
counts the main tables, so the counts describe exactly the rows in the dump while writes go on;
`pg_restore` into a scratch or target database. SQLite: the online backup API, copying the whole
file in one step (a consistent snapshot while web, worker and beat keep writing), counted in the
copy. The password reaches pg_dump and pg_restore in PGPASSWORD, never on the command line, and
every subprocess is bounded by BACKUP_TIMEOUT.
"""

import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db.migrations.loader import MigrationLoader
from django.db.utils import ConnectionHandler, load_backend
from psycopg import IsolationLevel

# The tables whose row counts a backup records and a verification compares: what an operator
# would miss first after a restore. Models of apps that are not installed are skipped.
MAIN_MODELS = (
    "auth.User",
    "statuspage.Component",
    "statuspage.Incident",
    "statuspage.IncidentUpdate",
    "statuspage.Maintenance",
    "statuspage.ComponentStatusChange",
    "alerts.AlertRule",
    "alerts.Alert",
    "alerts.AlertEvent",
    "notifications.Channel",
    "notifications.Delivery",
    "subscribers.Subscriber",
    "healthchecks.Check",
    "healthchecks.Probe",
    "oncall.Schedule",
    "oncall.EscalationPolicy",
)
SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup, verification or restore that cannot go on; the message says why, plainly."""


def main_tables() -> list[str]:
    tables = []
    for label in MAIN_MODELS:
        try:
            tables.append(apps.get_model(label)._meta.db_table)
        except LookupError:
            continue
    return tables


def engine_of(settings_dict: dict) -> str:
    engine = settings_dict["ENGINE"]
    if "postgresql" in engine:
        return "postgresql"
    if "sqlite3" in engine:
        return "sqlite"
    raise BackupError(f"backups support PostgreSQL and SQLite, not {engine}")


def engine_of_file(path: Path) -> str:
    """What wrote a backup file, from its first bytes (a pg_dump custom archive or SQLite)."""
    with path.open("rb") as file:
        head = file.read(16)
    if head.startswith(PG_CUSTOM_MAGIC):
        return "postgresql"
    if head == SQLITE_MAGIC:
        return "sqlite"
    raise BackupError(f"{path} is neither a pg_dump custom archive nor an SQLite database")


def _quote(table: str) -> str:
    return '"' + table.replace('"', '""') + '"'


def count_rows(cursor, existing: set[str]) -> dict[str, int]:
    """{table: rows} for the main tables that exist, through a DB-API cursor."""
    counts = {}
    for table in main_tables():
        if table in existing:
            cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


# --- Django connections to other databases (scratch, target) ---------------------------------


def configured(settings_dict: dict) -> dict:
    """A database settings dict with Django's defaults filled in."""
    return ConnectionHandler().configure_settings({"default": dict(settings_dict)})["default"]


@contextmanager
def database(settings_dict: dict) -> Iterator:
    """A Django connection to another database, never registered in django.db.connections (so a
    thread iterating those is not disturbed), closed on exit."""
    settings_dict = configured(settings_dict)
    wrapper = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, "backup")
    try:
        yield wrapper
    finally:
        wrapper.close()


def table_names(wrapper) -> set[str]:
    with wrapper.cursor() as cursor:
        return set(wrapper.introspection.table_names(cursor))


def counts_in(wrapper) -> dict[str, int]:
    existing = table_names(wrapper)
    with wrapper.cursor() as cursor:
        return count_rows(cursor, existing)


def migrations_pending(wrapper) -> list[str]:
    """The migrations this code has that the database has not applied ("app.name")."""
    # Read with plain SQL: the ORM (and so MigrationRecorder) only reaches registered aliases.
    applied = set()
    if "django_migrations" in table_names(wrapper):
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT app, name FROM django_migrations")
            applied = {(app, name) for app, name in cursor.fetchall()}
    on_disk = MigrationLoader(None, ignore_no_migrations=True).graph.nodes
    return sorted(f"{app}.{name}" for app, name in on_disk if (app, name) not in applied)


# --- Subprocesses --------------------------------------------------------------------------


def binary(setting: str) -> str:
    name = getattr(settings, setting)
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} not found: install the PostgreSQL client programs (the version of the server "
            f"or newer), or set {setting} to the program's full path"
        )
    return found


def _pg_env(settings_dict: dict) -> dict:
    env = {**os.environ, "PGCONNECT_TIMEOUT": str(settings.DATABASE_CONNECT_TIMEOUT)}
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    return env


def _pg_target(settings_dict: dict) -> list[str]:
    args = []
    if settings_dict.get("HOST"):
        args += ["--host", str(settings_dict["HOST"])]
    if settings_dict.get("PORT"):
        args += ["--port", str(settings_dict["PORT"])]
    if settings_dict.get("USER"):
        args += ["--username", str(settings_dict["USER"])]
    return [*args, "--no-password", "--dbname", str(settings_dict["NAME"])]


def run(command: list[str], *, env: dict) -> None:
    program = Path(command[0]).name
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=settings.BACKUP_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise BackupError(
            f"{program} did not finish within BACKUP_TIMEOUT ({settings.BACKUP_TIMEOUT} s)"
        ) from None
    except OSError as exc:
        raise BackupError(f"{program} could not be started: {exc}") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise BackupError(
            f"{program} failed (exit status {done.returncode}): " + " / ".join(lines[-5:])[:1500]
        )


# --- PostgreSQL ----------------------------------------------------------------------------


def pg_dump(settings_dict: dict, destination: Path) -> dict[str, int]:
    """Dump the database to `destination` (custom format); returns the main tables' counts in
    the dumped snapshot."""
    program = binary("BACKUP_PG_DUMP")
    snapshot_settings = {**settings_dict, "OPTIONS": {**settings_dict.get("OPTIONS", {})}}
    snapshot_settings["OPTIONS"]["isolation_level"] = IsolationLevel.REPEATABLE_READ
    with database(snapshot_settings) as wrapper:
        existing = table_names(wrapper)
        wrapper.set_autocommit(False)
        try:
            with wrapper.cursor() as cursor:
                # The first statement fixes the transaction's snapshot; pg_dump reads the same one,
                # which stays valid only while this transaction is open.
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = cursor.fetchone()[0]
                counts = count_rows(cursor, existing)
                run(
                    [program, "--format=custom", f"--snapshot={snapshot}", "--file", str(destination)]
                    + _pg_target(settings_dict),
                    env=_pg_env(settings_dict),
                )
        finally:
            wrapper.rollback()
            wrapper.set_autocommit(True)
    return counts


def pg_check_archive(path: Path) -> None:
    """pg_restore reads the archive's table of contents (a damaged header fails here)."""
    run([binary("BACKUP_PG_RESTORE"), "--list", str(path)], env=dict(os.environ))


def pg_restore(path: Path, settings_dict: dict, *, replace: frozenset[str] | set[str] = frozenset()) -> None:
    """Restore the archive in one transaction. `replace`: the target's tables, dropped in that
    same transaction first, so a failed restore leaves the target as it was."""
    restore = [binary("BACKUP_PG_RESTORE"), "--no-owner", "--no-privileges", "--exit-on-error"]
    env = _pg_env(settings_dict)
    if not replace:
        run([*restore, "--single-transaction", *_pg_target(settings_dict), str(path)], env=env)
        return
    # pg_restore --clean cannot drop a partition's inherited primary key, so the old tables are
    # dropped by name instead, and psql runs the drop and the restore script as one transaction.
    with tempfile.TemporaryDirectory(prefix="vigil-restore-") as folder:
        drop, script = Path(folder) / "drop.sql", Path(folder) / "restore.sql"
        names = ", ".join(_quote(name) for name in sorted(replace))
        drop.write_text(f"SET client_min_messages = warning;\nDROP TABLE IF EXISTS {names} CASCADE;\n")
        run([*restore, "--file", str(script), str(path)], env=env)
        psql = [binary("BACKUP_PSQL"), "--no-psqlrc", "--quiet", "--single-transaction"]
        psql += ["--set", "ON_ERROR_STOP=1", "--file", str(drop), "--file", str(script)]
        run([*psql, *_pg_target(settings_dict)], env=env)


def _maintenance(settings_dict: dict):
    return database({**settings_dict, "CONN_MAX_AGE": 0})


def pg_create_database(settings_dict: dict, name: str) -> None:
    with _maintenance(settings_dict) as wrapper, wrapper.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {_quote(name)}")


def pg_drop_database(settings_dict: dict, name: str) -> None:
    with _maintenance(settings_dict) as wrapper, wrapper.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")


# --- SQLite --------------------------------------------------------------------------------


def _sqlite_connect(name: str) -> sqlite3.Connection:
    connection = sqlite3.connect(name, uri=name.startswith("file:"), timeout=30)
    connection.execute("PRAGMA busy_timeout=30000")
    return connection


def _sqlite_tables(connection: sqlite3.Connection) -> set[str]:
    return {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def sqlite_backup(settings_dict: dict, destination: Path) -> dict[str, int]:
    """Copy the live database to `destination` with the online backup API; returns the main
    tables' counts in the copy."""
    source = _sqlite_connect(str(settings_dict["NAME"]))
    try:
        copy = sqlite3.connect(destination)
        try:
            # pages=-1: the whole database in one step, so writes by other connections cannot
            # make it restart half-way or mix two states.
            source.backup(copy, pages=-1)
            copy.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal beside it
            counts = count_rows(copy.cursor(), _sqlite_tables(copy))
        finally:
            copy.close()
    finally:
        source.close()
    return counts


def sqlite_check(path: Path) -> None:
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path.name} is not a readable SQLite database: {exc}") from None
    if rows != ["ok"]:
        raise BackupError(f"{path.name} failed SQLite's integrity check: " + "; ".join(rows[:5]))


def sqlite_is_empty(name: str) -> bool:
    if not name.startswith("file:") and not Path(name).exists():
        return True
    connection = _sqlite_connect(name)
    try:
        return not _sqlite_tables(connection)
    finally:
        connection.close()


def sqlite_restore(path: Path, target: str) -> None:
    """Replace the database `target` with the backup, through the backup API (other connections
    to the target wait on its lock rather than read a half-copied file)."""
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        destination = _sqlite_connect(target)
        try:
            source.backup(destination, pages=-1)
        finally:
            destination.close()
    finally:
        source.close()
