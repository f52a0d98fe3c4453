"""Raw metric points in daily partitions on PostgreSQL, so retention drops a day's table instead
of deleting its rows one batch at a time (which writes every deleted row to the WAL, leaves the
table bloated and competes with ingest for hours).

`monitoring_metric` is a partitioned table (declarative, by range of `timestamp`) with one
partition per UTC day, `monitoring_metric_pYYYYMMDD`, and a default partition for points outside
every day's range (a backfill older than the partitions, or a clock far ahead). The beat job
`partition_metrics` creates the partitions of the next METRIC_PARTITIONS_AHEAD_DAYS days, so
points never wait for one; retention (metrics_purge) drops the partitions whose whole day is past
METRICS_RETENTION_DAYS, and deletes only the default partition's old rows in batches.

Safe with several workers: each run takes a transaction-scoped advisory lock, so two runs do not
race to create the same table. When the default partition already holds points of a day whose
partition is being created, they are moved into it in the same transaction (PostgreSQL refuses
to create a partition whose rows sit in the default).

SQLite keeps one plain table: nothing here runs there.
"""

from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction

from monitoring.models import Metric

TABLE = Metric._meta.db_table
DEFAULT_PARTITION = f"{TABLE}_default"
PREFIX = f"{TABLE}_p"
# Any constant, the same in every process: the advisory lock of partition maintenance.
LOCK_ID = 0x76696731
DELETE_BATCH = 5000


def partitioned() -> bool:
    return connection.vendor == "postgresql"


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def partition_name(day: date) -> str:
    return f"{PREFIX}{day:%Y%m%d}"


def metric_partitions() -> dict[date, str]:
    """{day: partition table} of the daily partitions that exist."""
    if not partitioned():
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [TABLE],
        )
        names = [row[0] for row in cursor.fetchall()]
    days = {}
    for name in names:
        if name.startswith(PREFIX) and name[len(PREFIX) :].isdigit():
            days[datetime.strptime(name[len(PREFIX) :], "%Y%m%d").date()] = name
    return days


def _create(cursor, day: date) -> None:
    name, start, end = partition_name(day), _day_start(day), _day_start(day + timedelta(days=1))
    quote = connection.ops.quote_name
    cursor.execute(
        f"SELECT 1 FROM {quote(DEFAULT_PARTITION)} WHERE timestamp >= %s AND timestamp < %s LIMIT 1",
        [start, end],
    )
    strays = cursor.fetchone() is not None
    if strays:
        # The default partition holds points of this day: take it out, create the day's table,
        # move the points across, and put the default back, all in this transaction.
        cursor.execute(f"ALTER TABLE {quote(TABLE)} DETACH PARTITION {quote(DEFAULT_PARTITION)}")
    cursor.execute(
        f"CREATE TABLE {quote(name)} PARTITION OF {quote(TABLE)} FOR VALUES FROM (%s) TO (%s)", [start, end]
    )
    if strays:
        cursor.execute(
            f"WITH moved AS (DELETE FROM {quote(DEFAULT_PARTITION)} WHERE timestamp >= %s AND timestamp < %s "
            f"RETURNING *) INSERT INTO {quote(name)} SELECT * FROM moved",
            [start, end],
        )
        cursor.execute(f"ALTER TABLE {quote(TABLE)} ATTACH PARTITION {quote(DEFAULT_PARTITION)} DEFAULT")


def metric_partitions_ensure(*, now: datetime | None = None, days_ahead: int | None = None) -> list[str]:
    """Create the daily partitions from today (UTC) to days_ahead days on; returns the new ones."""
    if not partitioned():
        return []
    now = now or datetime.now(UTC)
    ahead = settings.METRIC_PARTITIONS_AHEAD_DAYS if days_ahead is None else days_ahead
    today = now.astimezone(UTC).date()
    created = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_ID])
        existing = metric_partitions()
        for offset in range(ahead + 1):
            day = today + timedelta(days=offset)
            if day not in existing:
                _create(cursor, day)
                created.append(partition_name(day))
    return created


def metric_partitions_drop(*, cutoff: datetime) -> tuple[int, int]:
    """Drop the daily partitions whose whole day is before cutoff, then delete the default
    partition's points older than cutoff in batches. Returns (partitions dropped, rows deleted
    from the default partition)."""
    dropped = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_ID])
        for day, name in sorted(metric_partitions().items()):
            if _day_start(day + timedelta(days=1)) <= cutoff:
                cursor.execute(f"DROP TABLE {connection.ops.quote_name(name)}")
                dropped += 1
    # Rows of a daily partition older than cutoff are on its last, partly expired day: they go
    # with that day's table. Only the default partition's rows are deleted, in short batches.
    stray_rows = 0
    quote = connection.ops.quote_name(DEFAULT_PARTITION)
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {quote} WHERE ctid IN (SELECT ctid FROM {quote} WHERE timestamp < %s LIMIT %s)",
                [cutoff, DELETE_BATCH],
            )
            stray_rows += cursor.rowcount
        if cursor.rowcount < DELETE_BATCH:
            return dropped, stray_rows
