"""Raw metric points become a table partitioned by day on PostgreSQL (monitoring/partitions.py).

The existing table is renamed, a partitioned table with the same columns takes its name, the
points are copied across (once: an installation with many points spends a while here), and the
old table is dropped. SQLite is left as it is. The model does not change: Django sees the same
columns, and the primary key's index on PostgreSQL simply also holds the timestamp, as a
partitioned table requires.
"""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import migrations

TABLE = "monitoring_metric"
OLD = "monitoring_metric_unpartitioned"


def partition_by_day(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    from monitoring.partitions import metric_partitions_ensure

    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
        cursor.execute("DROP INDEX IF EXISTS metric_name_time, metric_time")
        cursor.execute(
            f"CREATE TABLE {TABLE} (LIKE {OLD} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING STORAGE, "
            f"PRIMARY KEY (id, timestamp)) PARTITION BY RANGE (timestamp)"
        )
        cursor.execute(f"CREATE INDEX metric_name_time ON {TABLE} (name, timestamp)")
        cursor.execute(f"CREATE INDEX metric_time ON {TABLE} (timestamp)")
        cursor.execute(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT")
        cursor.execute(f"SELECT min(timestamp) FROM {OLD}")
        oldest = cursor.fetchone()[0]
    now = datetime.now(UTC)
    if oldest is not None:
        # The days that hold points still within retention get their own tables before the copy.
        first = max(oldest, now - timedelta(days=settings.METRICS_RETENTION_DAYS))
        metric_partitions_ensure(now=first, days_ahead=max(0, (now - first).days + 1))
    metric_partitions_ensure(now=now)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {OLD}")
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{TABLE}', 'id'), "
            f"GREATEST((SELECT max(id) FROM {TABLE}), 1), (SELECT count(*) > 0 FROM {TABLE}))"
        )
        cursor.execute(f"DROP TABLE {OLD}")


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0002_ingest_key")]

    operations = [
        # Not reversed: the partitioned table serves the earlier model as well.
        migrations.RunPython(partition_by_day, migrations.RunPython.noop, elidable=False),
    ]
