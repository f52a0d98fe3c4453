"""Read functions over the metric series: what alerts, charts and the query API call.

- window_aggregates(selectors): count/avg/min/max/p95/last/sum of each selector's points over its
  window ending now. Alerts call it with every rule at once; selectors that differ only by metric
  name share a set of FILTERed aggregates in one query grouped by name, so the query count follows
  the distinct window shapes, not the rules or the metrics. It reads raw points: alert windows are
  short and must see the latest point, which rollups do not have yet.
- metric_buckets(series, since, until, interval): fixed-width UTC buckets (count, avg, min, max,
  p95) for a chart. Buckets before the rollup cursor come from the minute (1m, 5m) or hour
  (1h, 1d) rollups, later ones from raw points, so a chart is both cheap and current.

Percentiles (p50, p90, p95, p99) from raw points are exact, computed in the database:
percentile_cont on PostgreSQL, the same formula as a registered aggregate on SQLite (see
aggregates.py). From rollups they come from the rows' quantile sketches (sketch.py), merged for
a bucket that spans several rows, and are within the sketch's accuracy (0.5 %) of the exact
figure over the same points whatever is merged. A chart filtered by name only reads the per-name
rollups (one row per bucket); a narrower filter reads the per-series rows and merges them.
Counts, averages, minima and maxima merge exactly. Alerts read raw points (window_aggregates).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from django.db import connections
from django.db.models import Avg, Count, Max, Min, Q, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.lookups import Exact
from django.utils import timezone

from monitoring import sketch
from monitoring.aggregates import P95, EpochBucket, Last, Percentile
from monitoring.models import HourNameRollup, HourRollup, Metric, MinuteNameRollup, MinuteRollup, RollupCursor

_NO_PERCENTILES = dict.fromkeys(sketch.QUANTILES)
INTERVALS: dict[str, int] = {"1m": 60, "5m": 300, "1h": 3600, "1d": 86400}
MAX_BUCKETS = 10_000
AGGREGATE_FUNCTIONS = ("count", "avg", "min", "max", "p95", "last", "sum")


def floor_time(moment: datetime, seconds: int) -> datetime:
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


def ceil_time(moment: datetime, seconds: int) -> datetime:
    floored = floor_time(moment, seconds)
    return floored if floored == moment else floored + timedelta(seconds=seconds)


def tag_q(key: str, value: str) -> Q:
    """Points whose tag `key` equals `value` (compared as text). Built as an expression, not as
    `tags__<key>`, so a key such as "contains" or "a__b" is a key, never a lookup or a path."""
    return Q(Exact(KeyTextTransform(key, "tags"), value))


def _series_q(*, name: str, metric_types: Iterable[str], category: str, source: str, endpoint: str) -> Q:
    q = Q()
    if name:
        q &= Q(name=name)
    types = list(metric_types)
    if types:
        q &= Q(metric_type__in=types)
    if category:
        q &= Q(category=category)
    if source:
        q &= Q(source=source)
    if endpoint:
        q &= Q(endpoint=endpoint)
    return q


# --- alert windows ------------------------------------------------------------------------


@dataclass(frozen=True)
class Selector:
    """Which points of one metric an alert rule looks at, and over how long a window."""

    name: str
    window: timedelta
    metric_type: str = ""
    category: str = ""
    source: str = ""
    endpoint: str = ""
    tags: tuple[tuple[str, str], ...] = ()  # (key, value) pairs that must all match

    def q(self, since: datetime) -> Q:
        q = _series_q(
            name=self.name,
            metric_types=[self.metric_type] if self.metric_type else [],
            category=self.category,
            source=self.source,
            endpoint=self.endpoint,
        ) & Q(timestamp__gte=since)
        for key, value in self.tags:
            q &= tag_q(key, value)
        return q


@dataclass(frozen=True)
class WindowAggregate:
    count: int
    avg: float | None
    min: float | None
    max: float | None
    p95: float | None
    last: float | None
    sum: float | None = None  # of the values: what counters (one row per interval) add up to

    def get(self, function: str) -> float | int | None:
        if function not in AGGREGATE_FUNCTIONS:
            raise ValueError(f"unknown aggregate {function!r}; use one of {', '.join(AGGREGATE_FUNCTIONS)}")
        return getattr(self, function)


# Distinct selector shapes (a selector less its metric name) aggregated in one query. Each shape
# adds seven FILTERed aggregates that every row in the window is checked against, so a query
# with very many would cost more per row than the scans it saves.
SHAPES_PER_QUERY = 8


def _empty_window() -> WindowAggregate:
    return WindowAggregate(count=0, avg=None, min=None, max=None, p95=None, last=None, sum=None)


def window_aggregates(
    selectors: Iterable[Selector], *, now: datetime | None = None
) -> dict[Selector, WindowAggregate]:
    """Aggregate every selector over (now - window, now]. A selector with no points in its window
    gets count 0 and None for the rest.

    Rules on many metrics mostly differ only by name: they share a few shapes (window, source,
    tags...). So the selectors are grouped by shape, and one query, grouped by metric name,
    answers up to SHAPES_PER_QUERY shapes for every metric that uses them. The window is read
    once for all metrics rather than once per metric, and the query costs as many expressions
    to build as there are shapes, not as there are rules."""
    now = now or timezone.now()
    names_by_shape: dict[Selector, list[str]] = {}
    for selector in dict.fromkeys(selectors):  # drop duplicates, keep order
        names_by_shape.setdefault(replace(selector, name=""), []).append(selector.name)
    shapes = list(names_by_shape)
    results: dict[Selector, WindowAggregate] = {}
    for first in range(0, len(shapes), SHAPES_PER_QUERY):
        chunk = shapes[first : first + SHAPES_PER_QUERY]
        names = sorted({name for shape in chunk for name in names_by_shape[shape]})
        widest = max(shape.window for shape in chunk)
        aggregates = {}
        for i, shape in enumerate(chunk):
            q = shape.q(now - shape.window)  # no name: the grouping separates the metrics
            aggregates.update(
                {
                    f"s{i}_count": Count("id", filter=q),
                    f"s{i}_avg": Avg("value", filter=q),
                    f"s{i}_min": Min("value", filter=q),
                    f"s{i}_max": Max("value", filter=q),
                    f"s{i}_p95": P95("value", filter=q),
                    f"s{i}_last": Last("value", "timestamp", filter=q),
                    f"s{i}_sum": Sum("value", filter=q),
                }
            )
        rows = (
            Metric.objects.filter(name__in=names, timestamp__gte=now - widest, timestamp__lte=now)
            .order_by()
            .values("name")
            .annotate(**aggregates)
        )
        row_by_name = {row["name"]: row for row in rows}
        for i, shape in enumerate(chunk):
            for name in names_by_shape[shape]:
                row = row_by_name.get(name)
                results[replace(shape, name=name)] = (
                    WindowAggregate(**{function: row[f"s{i}_{function}"] for function in AGGREGATE_FUNCTIONS})
                    if row is not None
                    else _empty_window()
                )
    return results


# --- chart buckets ------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesFilter:
    name: str = ""
    metric_types: tuple[str, ...] = ()
    category: str = ""
    source: str = ""
    endpoint: str = ""
    tag: tuple[str, str] | None = None

    def q(self) -> Q:
        return _series_q(
            name=self.name,
            metric_types=self.metric_types,
            category=self.category,
            source=self.source,
            endpoint=self.endpoint,
        )


@dataclass
class Bucket:
    start: datetime
    count: int
    avg: float | None
    min: float | None
    max: float | None
    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None

    def as_dict(self) -> dict:
        return {
            "start": self.start.isoformat().replace("+00:00", "Z"),
            "count": self.count,
            "avg": self.avg,
            "min": self.min,
            "max": self.max,
            "p50": self.p50,
            "p90": self.p90,
            "p95": self.p95,
            "p99": self.p99,
        }


@dataclass
class BucketSeries:
    interval: str
    since: datetime
    until: datetime
    buckets: list[Bucket] = field(default_factory=list)
    rollup_buckets: int = 0  # how many buckets were read from rollups
    raw_buckets: int = 0


def rolled_up_until(resolution: str) -> datetime | None:
    return (
        RollupCursor.objects.filter(resolution=resolution).values_list("rolled_up_until", flat=True).first()
    )


def _fetch(queryset, columns: list[str]) -> list[tuple]:
    """Rows of a grouped query as plain tuples. Skips the ORM's per-row converters, which cost
    more than the query itself for a 1,440-bucket chart; every column here is a plain number."""
    queryset = queryset.values_list(*columns)
    _ensure_functions = queryset.query.get_compiler(queryset.db).as_sql  # registers SQLite aggregates
    sql, params = _ensure_functions()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _start(epoch) -> datetime:
    return datetime.fromtimestamp(int(epoch), tz=UTC)


def _raw_buckets(q: Q, start: datetime, end: datetime, seconds: int) -> list[Bucket]:
    percentiles = {label: Percentile("value", fraction) for label, fraction in sketch.QUANTILES.items()}
    queryset = (
        Metric.objects.filter(q, timestamp__gte=start, timestamp__lt=end)
        .values(bucket=EpochBucket("timestamp", seconds))
        .annotate(n=Count("id"), avg=Avg("value"), low=Min("value"), high=Max("value"), **percentiles)
        .order_by("bucket")
    )
    rows = _fetch(queryset, ["bucket", "n", "avg", "low", "high", *percentiles])
    return [Bucket(_start(bucket), n, avg, low, high, *exact) for bucket, n, avg, low, high, *exact in rows]


def _merged_bucket(start: datetime, rows: list[tuple]) -> Bucket:
    """One chart bucket from the rollup rows (count, total, low, high, sketch) that fall in it."""
    if len(rows) == 1:
        count, total, low, high, blob = rows[0]
        estimates = sketch.quantiles(blob, low=low, high=high) if blob else _NO_PERCENTILES
        return Bucket(start, count, total / count, low, high, **estimates)
    count = sum(row[0] for row in rows)
    low, high = min(row[2] for row in rows), max(row[3] for row in rows)
    blobs = [row[4] for row in rows if row[4]]
    # Rows rolled up before rollups kept sketches have none: such a bucket has no percentiles.
    estimates = (
        sketch.quantiles_of_counts(sketch.merge_counts(blobs), low=low, high=high)
        if blobs
        else _NO_PERCENTILES
    )
    return Bucket(start, count, sum(row[1] for row in rows) / count, low, high, **estimates)


def _rollup_buckets(model, q: Q, start: datetime, end: datetime, seconds: int) -> list[Bucket]:
    """Chart buckets from rollup rows: the rows of each bucket are added up, their sketches merged
    (a bucket of one row, the usual case, reads its sketch as it is)."""
    queryset = (
        model.objects.filter(q, bucket_start__gte=start, bucket_start__lt=end, count__gt=0)
        .annotate(bucket=EpochBucket("bucket_start", seconds))
        .order_by("bucket")
    )
    rows = _fetch(queryset, ["bucket", "count", "total", "minimum", "maximum", "sketch"])
    buckets, group, current = [], [], None
    for bucket, *values in rows:
        if bucket != current and group:
            buckets.append(_merged_bucket(_start(current), group))
            group = []
        current = bucket
        group.append(values)
    if group:
        buckets.append(_merged_bucket(_start(current), group))
    return buckets


def _reads_whole_names(series: SeriesFilter) -> bool:
    """Whether only the metric name narrows the series, so the per-name rollups answer."""
    return not (series.metric_types or series.category or series.source or series.endpoint or series.tag)


def metric_buckets(
    series: SeriesFilter, *, since: datetime, until: datetime, interval: str, use_rollups: bool = True
) -> BucketSeries:
    """Buckets covering [since, until], widened to whole buckets (UTC-aligned). Empty buckets
    are left out. Raises ValueError for an unknown interval or too many buckets."""
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(INTERVALS)}")
    seconds = INTERVALS[interval]
    start, end = floor_time(since, seconds), ceil_time(until, seconds)
    if end <= start:
        end = start + timedelta(seconds=seconds)
    if (end - start).total_seconds() / seconds > MAX_BUCKETS:
        raise ValueError(f"at most {MAX_BUCKETS} buckets per query; use a wider interval or a shorter range")
    result = BucketSeries(interval=interval, since=start, until=end)
    q = series.q()
    split = start
    # A tag is not part of a rollup series, so a tag filter reads raw points only.
    if use_rollups and series.tag is None:
        minute = seconds < 3600
        resolution = RollupCursor.Resolution.MINUTE if minute else RollupCursor.Resolution.HOUR
        if _reads_whole_names(series):
            model = MinuteNameRollup if minute else HourNameRollup
        else:
            model = MinuteRollup if minute else HourRollup
        cursor = rolled_up_until(resolution)
        if cursor is not None:
            # Only buckets wholly before the cursor are complete in the rollups.
            split = min(max(floor_time(cursor, seconds), start), end)
            if split > start:
                result.buckets += _rollup_buckets(model, q, start, split, seconds)
                result.rollup_buckets = len(result.buckets)
    if split < end:
        if series.tag is not None:
            q &= tag_q(*series.tag)
        raw = _raw_buckets(q, split, end, seconds)
        result.buckets += raw
        result.raw_buckets = len(raw)
    return result
