"""Database expressions the metric queries share, written for PostgreSQL and SQLite.

Percentiles are continuous (linear interpolation between the two nearest ranks), the definition
of PostgreSQL's percentile_cont. SQLite has no percentile function, so the same maths runs inside
SQLite as an application-defined aggregate (registered on the connection the first time a query
uses it): still one GROUP BY in the database, no rows shipped to Django.
"""

import math
from collections.abc import Sequence

from django.db.models import Aggregate, FloatField, Func, IntegerField

from monitoring import sketch


def percentile_cont(values: Sequence[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont on a Python list (SQLite's aggregate and the tests use it)."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (position - lower) * (ordered[upper] - ordered[lower])


class _SqlitePercentile:
    def __init__(self):
        self.values: list[float] = []
        self.fraction = 0.5

    def step(self, value, fraction):
        self.fraction = fraction
        if value is not None:
            self.values.append(value)

    def finalize(self):
        return percentile_cont(self.values, self.fraction)


class _SqliteLast:
    """The value with the latest timestamp. Django stores SQLite datetimes as ISO text in UTC,
    which sorts in time order."""

    def __init__(self):
        self.value = None
        self.at = None

    def step(self, value, at):
        if value is not None and (self.at is None or at >= self.at):
            self.value, self.at = value, at

    def finalize(self):
        return self.value


def _ensure_sqlite_functions(connection) -> None:
    connection.ensure_connection()
    raw = connection.connection
    # Remember the raw connection itself (not its id, which a later connection may reuse).
    if getattr(connection, "_vigil_functions_on", None) is not raw:
        raw.create_aggregate("vigil_percentile", 2, _SqlitePercentile)
        raw.create_function("vigil_sketch_code", 1, sketch.value_code, deterministic=True)
        raw.create_aggregate("vigil_last", 2, _SqliteLast)
        connection._vigil_functions_on = raw


def _as_plain_call(aggregate: Aggregate, compiler, connection, function: str):
    # Set on a copy, not passed as template=: Aggregate.as_sql with a FILTER passes its own
    # template keyword as well.
    clone = aggregate.copy()
    clone.function, clone.template = function, "%(function)s(%(expressions)s)"
    return Aggregate.as_sql(clone, compiler, connection)


class Percentile(Aggregate):
    """Percentile(value, fraction): the continuous percentile, exact, over raw points."""

    name = "Percentile"
    function = "percentile_cont"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, **extra)
        self.fraction = float(fraction)
        if not 0 <= self.fraction <= 1:
            raise ValueError("a percentile's fraction lies between 0 and 1")

    def as_sql(self, compiler, connection, **extra_context):
        # The fraction is our own float, written as a literal: PostgreSQL needs it constant per
        # aggregate, and a literal keeps the statement text (and its plan) the same every time.
        # Set on a copy, not passed as template=: with a FILTER, Aggregate.as_sql passes its own.
        clone = self.copy()
        clone.template = f"%(function)s({self.fraction!r}) WITHIN GROUP (ORDER BY %(expressions)s)"
        return Aggregate.as_sql(clone, compiler, connection)

    def as_sqlite(self, compiler, connection, **extra_context):
        _ensure_sqlite_functions(connection)
        clone = self.copy()
        clone.function = "vigil_percentile"
        clone.template = f"%(function)s(%(expressions)s, {self.fraction!r})"
        return Aggregate.as_sql(clone, compiler, connection)


def P95(expression, **extra) -> Percentile:  # noqa: N802 - reads as the aggregate it builds
    return Percentile(expression, 0.95, **extra)


class SketchCode(Func):
    """A value's bin code in the quantile sketch (monitoring/sketch.py), computed where the
    points are, so a rollup groups by it and counts instead of shipping every value."""

    output_field = IntegerField()

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        low, log_gamma, base = sketch.MIN_MAGNITUDE, sketch.LOG_GAMMA, sketch.CODE_BASE
        code = f"(ceil(ln(abs({sql})) / {log_gamma!r})::integer + {base})"
        return (
            f"(CASE WHEN {sql} >= {low!r} THEN {code} WHEN {sql} <= -{low!r} THEN -{code} ELSE 0 END)",
            [*params, *params, *params, *params],
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        _ensure_sqlite_functions(connection)
        sql, params = compiler.compile(self.source_expressions[0])
        return f"vigil_sketch_code({sql})", params


class Last(Aggregate):
    """Last(value, timestamp): the value of the most recent point."""

    name = "Last"
    output_field = FloatField()
    arity = 2

    def as_postgresql(self, compiler, connection, **extra_context):
        value_sql, value_params = compiler.compile(self.source_expressions[0])
        at_sql, at_params = compiler.compile(self.source_expressions[1])
        sql = f"array_agg({value_sql} ORDER BY {at_sql} DESC)"
        params = [*value_params, *at_params]
        if self.filter:
            filter_sql, filter_params = self.filter.as_sql(compiler, connection)
            sql += f" FILTER (WHERE {filter_sql})"
            params += list(filter_params)
        return f"({sql})[1]", params

    def as_sqlite(self, compiler, connection, **extra_context):
        _ensure_sqlite_functions(connection)
        return _as_plain_call(self, compiler, connection, "vigil_last")


class EpochBucket(Func):
    """The start of the fixed-width bucket holding a timestamp, as whole seconds since the epoch
    (UTC). Integer buckets read the same on both databases."""

    output_field = IntegerField()

    def __init__(self, expression, seconds: int, **extra):
        super().__init__(expression, **extra)
        self.seconds = int(seconds)

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        s = self.seconds
        # date_part gives double precision; EXTRACT gives numeric since PostgreSQL 14, whose
        # arithmetic made a 24 h chart from rollups about half again slower.
        return f"(floor(date_part('epoch', {sql}) / {s}) * {s})::bigint", params

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        s = self.seconds
        return f"((CAST(strftime('%%s', {sql}) AS INTEGER) / {s}) * {s})", params
