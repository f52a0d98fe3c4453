"""Writing a message's deliveries: one row per recipient, any number of recipients.

A fan-out to every subscriber runs inside the producer's transaction (posting an incident
update), so its speed is how long the request and the incident's row lock last. On PostgreSQL
the rows go through COPY into a temporary table and one INSERT ... SELECT ... ON CONFLICT
DO NOTHING: about ten times faster than bulk_create, whose client-side parameter quoting is
most of the cost there. Elsewhere (SQLite, embedded mode) bulk_create in batches.

Either way the rows are consumed as a stream, so memory stays flat, and a repeated recipient
(same idempotency key) is a no-op rather than an error.
"""

from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice

from django.db import connection
from psycopg.types.json import Jsonb

from notifications.models import Delivery

# What a producer sets per row; the other columns start the same for every new delivery.
COLUMNS = (
    "message_id",
    "channel_id",
    "kind",
    "recipient",
    "context",
    "idempotency_key",
    "attempt_limit",
    "next_attempt_at",
    "give_up_at",
    "created_at",
    "person_id",
)
BATCH = 5000
STAGE = "vigil_delivery_stage"


def write_deliveries(rows: Iterable[tuple], now: datetime) -> None:
    """Insert the rows: tuples in COLUMNS order, `context` a dict."""
    if connection.vendor == "postgresql":
        _copy_rows(rows, now)
    else:
        _bulk_create_rows(rows)


def _batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _bulk_create_rows(rows: Iterable[tuple]) -> None:
    for batch in _batched(rows, BATCH):
        objects = [Delivery(**dict(zip(COLUMNS, row, strict=True))) for row in batch]
        Delivery.objects.bulk_create(objects, ignore_conflicts=True)


def _copy_rows(rows: Iterable[tuple], now: datetime) -> None:
    table = connection.ops.quote_name(Delivery._meta.db_table)
    columns = ", ".join(COLUMNS)
    context_at = COLUMNS.index("context")
    with connection.cursor() as cursor:
        # Same column types as the real table, none of its constraints; gone at the end.
        cursor.execute(f"CREATE TEMPORARY TABLE {STAGE} AS SELECT {columns} FROM {table} WITH NO DATA")
        # One COPY per batch: the rows may come from a server-side cursor on this same
        # connection (subscribers), which cannot fetch while a COPY is in progress.
        for batch in _batched(rows, BATCH):
            with cursor.cursor.copy(f"COPY {STAGE} ({columns}) FROM STDIN") as copy:
                for row in batch:
                    row = list(row)
                    row[context_at] = Jsonb(row[context_at])
                    copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({columns}, status, attempts, last_error, updated_at) "
            f"SELECT {columns}, %s, 0, '', %s FROM {STAGE} "
            "ON CONFLICT (idempotency_key) DO NOTHING",
            [Delivery.Status.PENDING, now],
        )
        cursor.execute(f"DROP TABLE {STAGE}")
