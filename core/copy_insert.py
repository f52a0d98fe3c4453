"""Inserting many rows of one model as a stream, skipping any row whose unique key exists already.

On PostgreSQL the rows go through COPY into a temporary table and one INSERT ... SELECT ...
ON CONFLICT DO NOTHING: about ten times faster than bulk_create, whose client-side quoting of
every parameter (JSON text above all: each quote in it is escaped by a regular expression) is
most of the cost there. Elsewhere (SQLite, embedded mode) bulk_create in batches, with
ignore_conflicts. Either way the rows are consumed as they come, so memory stays flat.

Only the caller's own app may write its models: this is a tool its services use, not a writer.
"""

from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any

from django.db import connection, models
from psycopg.types.json import Jsonb

BATCH = 5000


def batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def copy_insert(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence],
    *,
    constants: Mapping[str, Any] | None = None,
    conflict: str | None = None,
) -> None:
    """Insert `rows` (tuples in `columns` order, database column names) with `constants` set on
    every row; a row that breaks the unique `conflict` column (any unique key when None) is not
    written, and is no error."""
    constants = dict(constants or {})
    if connection.vendor == "postgresql":
        _copy(model, columns, rows, constants, conflict)
    else:
        for batch in batched(rows, BATCH):
            objects = [model(**dict(zip(columns, row, strict=True)), **constants) for row in batch]
            model.objects.bulk_create(objects, ignore_conflicts=True)


def _copy(model, columns, rows, constants, conflict) -> None:
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    stage = quote(f"vigil_stage_{model._meta.db_table}")
    fields = {field.column: field for field in model._meta.concrete_fields}
    json_at = [i for i, name in enumerate(columns) if isinstance(fields[name], models.JSONField)]
    names = ", ".join(quote(name) for name in columns)
    extra = "".join(f", {quote(name)}" for name in constants)
    values = "".join(", %s" for _ in constants)
    target = f"({quote(conflict)})" if conflict else ""
    with connection.cursor() as cursor:
        # Same column types as the real table, none of its constraints; gone at the end.
        cursor.execute(f"CREATE TEMPORARY TABLE {stage} AS SELECT {names} FROM {table} WITH NO DATA")
        # One COPY per batch: the rows may come from a server-side cursor on this same
        # connection (subscribers), which cannot fetch while a COPY is in progress.
        for batch in batched(rows, BATCH):
            with cursor.cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
                for row in batch:
                    if json_at:
                        row = list(row)
                        for i in json_at:
                            row[i] = Jsonb(row[i])
                    copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({names}{extra}) SELECT {names}{values} FROM {stage} "
            f"ON CONFLICT {target} DO NOTHING",
            list(constants.values()),
        )
        cursor.execute(f"DROP TABLE {stage}")
