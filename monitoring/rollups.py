"""Keep the minute and hour rollups up to date (the rollup_metrics job and command).

Each run upserts the rollup rows of a time range computed from raw points (one GROUP BY for the
aggregates, one for the sketches' bin counts), and the per-name rows merged from them, then moves
the resolution's cursor forward, in one transaction. It is idempotent (recomputing a bucket
writes the same row) and safe twice at once: rows are upserted in a fixed key order, so two runs
take row locks in the same order and cannot deadlock; the cursor only ever moves forward
(conditional UPDATE ... WHERE rolled_up_until < new).

Late points: each run recomputes the last MINUTE_LOOKBACK of minute buckets, and the hour
buckets of the last HOUR_LOOKBACK when an hour completes, so points up to that late are counted.
Points ingested later than that (a backfill) reach the rollups with
`manage.py rollup_metrics --since <ISO time>`, which recomputes every bucket from then on.
"""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Count, Max, Min, Sum
from django.utils import timezone

from monitoring import sketch
from monitoring.aggregates import EpochBucket, SketchCode
from monitoring.models import (
    HourNameRollup,
    HourRollup,
    Metric,
    MinuteNameRollup,
    MinuteRollup,
    NameRollup,
    Rollup,
    RollupCursor,
)
from monitoring.queries import floor_time, rolled_up_until

MINUTE_LOOKBACK = timedelta(minutes=10)
HOUR_LOOKBACK = timedelta(hours=2)
# A run that is far behind (first run, or after downtime) catches up this much at a time.
MINUTE_MAX_SPAN = timedelta(hours=6)
HOUR_MAX_SPAN = timedelta(days=3)
UNIQUE_FIELDS = ["name", "bucket_start", "metric_type", "category", "unit", "source", "endpoint"]
NAME_UNIQUE_FIELDS = ["name", "bucket_start"]
VALUE_FIELDS = ["count", "total", "minimum", "maximum", "sketch"]
NAME_MODELS: dict[type[Rollup], type[NameRollup]] = {
    MinuteRollup: MinuteNameRollup,
    HourRollup: HourNameRollup,
}


def _bin_counts(start: datetime, end: datetime, seconds: int) -> dict[tuple, dict[int, int]]:
    """(series fields..., bucket) -> {sketch code: points}, binned and counted in the database."""
    rows = (
        Metric.objects.filter(timestamp__gte=start, timestamp__lt=end)
        .values_list(*Rollup.SERIES_FIELDS, EpochBucket("timestamp", seconds), SketchCode("value"))
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[tuple, dict[int, int]] = defaultdict(dict)
    for *key, code, n in rows:
        counts[tuple(key)][code] = n
    return counts


def rollup_rows(model: type[Rollup], *, start: datetime, end: datetime, seconds: int) -> list[Rollup]:
    """The rollup rows of [start, end) computed from raw points, sorted by their unique key."""
    rows = (
        Metric.objects.filter(timestamp__gte=start, timestamp__lt=end)
        .values(*Rollup.SERIES_FIELDS, bucket=EpochBucket("timestamp", seconds))
        .annotate(n=Count("id"), total=Sum("value"), low=Min("value"), high=Max("value"))
        .order_by()
    )
    bins = _bin_counts(start, end, seconds)
    objects = [
        model(
            bucket_start=datetime.fromtimestamp(row["bucket"], tz=UTC),
            count=row["n"],
            total=row["total"],
            minimum=row["low"],
            maximum=row["high"],
            sketch=sketch.encode_counts(bins[(*(row[f] for f in Rollup.SERIES_FIELDS), row["bucket"])]),
            **{f: row[f] for f in Rollup.SERIES_FIELDS},
        )
        for row in rows
    ]
    objects.sort(key=lambda r: tuple(str(getattr(r, f)) for f in UNIQUE_FIELDS))
    return objects


def name_rollup_rows(model: type[NameRollup], series_rows: list[Rollup]) -> list[NameRollup]:
    """One row per (name, bucket) merging that name's series rows: counts and sums add, minima
    and maxima compare, sketches merge exactly."""
    groups: dict[tuple[str, datetime], list[Rollup]] = defaultdict(list)
    for row in series_rows:
        groups[(row.name, row.bucket_start)].append(row)
    objects = [
        model(
            name=name,
            bucket_start=bucket_start,
            count=sum(r.count for r in rows),
            total=sum(r.total for r in rows),
            minimum=min(r.minimum for r in rows),
            maximum=max(r.maximum for r in rows),
            sketch=rows[0].sketch
            if len(rows) == 1
            else sketch.encode_counts(sketch.merge_counts(r.sketch for r in rows)),
        )
        for (name, bucket_start), rows in groups.items()
    ]
    objects.sort(key=lambda r: (r.name, r.bucket_start))
    return objects


def _upsert(model: type[Rollup], start: datetime, end: datetime, seconds: int) -> int:
    objects = rollup_rows(model, start=start, end=end, seconds=seconds)
    model.objects.bulk_create(
        objects,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=UNIQUE_FIELDS,
        update_fields=VALUE_FIELDS,
    )
    name_model = NAME_MODELS[model]
    name_model.objects.bulk_create(
        name_rollup_rows(name_model, objects),
        batch_size=1000,
        update_conflicts=True,
        unique_fields=NAME_UNIQUE_FIELDS,
        update_fields=VALUE_FIELDS,
    )
    return len(objects)


def _roll(
    resolution: str,
    model: type[Rollup],
    seconds: int,
    lookback: timedelta,
    max_span: timedelta,
    now: datetime,
    only_when_complete: bool,
) -> int:
    end_limit = floor_time(now, seconds)
    cursor = rolled_up_until(resolution)
    if cursor is None:
        first = Metric.objects.order_by("timestamp").values_list("timestamp", flat=True).first()
        if first is None:
            return 0
        cursor = floor_time(first, seconds)
    if only_when_complete and cursor >= end_limit:
        return 0
    start = floor_time(min(cursor, end_limit - lookback), seconds)
    end = min(end_limit, start + max(max_span, lookback))
    if end <= start:
        return 0
    with transaction.atomic():
        written = _upsert(model, start, end, seconds)
        moved = RollupCursor.objects.filter(resolution=resolution, rolled_up_until__lt=end).update(
            rolled_up_until=end
        )
        if not moved:
            RollupCursor.objects.get_or_create(resolution=resolution, defaults={"rolled_up_until": end})
    return written


def metrics_rollup(*, now: datetime | None = None) -> dict[str, int]:
    """Bring both resolutions up to date (one catch-up span each); returns rows written."""
    now = now or timezone.now()
    return {
        "minute": _roll(
            RollupCursor.Resolution.MINUTE, MinuteRollup, 60, MINUTE_LOOKBACK, MINUTE_MAX_SPAN, now, False
        ),
        "hour": _roll(
            RollupCursor.Resolution.HOUR, HourRollup, 3600, HOUR_LOOKBACK, HOUR_MAX_SPAN, now, True
        ),
    }


def metrics_rollup_until_current(*, now: datetime | None = None, max_runs: int = 200) -> dict[str, int]:
    """Run rollups until both cursors have caught up with now (seeding, benchmarks, tests)."""
    now = now or timezone.now()
    totals = {"minute": 0, "hour": 0}
    for _ in range(max_runs):
        written = metrics_rollup(now=now)
        for key, count in written.items():
            totals[key] += count
        minute = rolled_up_until(RollupCursor.Resolution.MINUTE)
        hour = rolled_up_until(RollupCursor.Resolution.HOUR)
        if (minute is None or minute >= floor_time(now, 60)) and (
            hour is None or hour >= floor_time(now, 3600)
        ):
            break
    return totals


def metrics_rollup_recompute(*, since: datetime, now: datetime | None = None) -> dict[str, int]:
    """Recompute every rollup bucket from `since` up to the cursors (after a backfill), one
    transaction per span. Buckets after the cursors are left to the regular runs."""
    now = now or timezone.now()
    totals = {}
    for key, resolution, model, seconds, span in (
        ("minute", RollupCursor.Resolution.MINUTE, MinuteRollup, 60, MINUTE_MAX_SPAN),
        ("hour", RollupCursor.Resolution.HOUR, HourRollup, 3600, HOUR_MAX_SPAN),
    ):
        until = rolled_up_until(resolution) or floor_time(now, seconds)
        start, totals[key] = floor_time(since, seconds), 0
        while start < until:
            end = min(until, start + span)
            with transaction.atomic():
                totals[key] += _upsert(model, start, end, seconds)
            start = end
    return totals
