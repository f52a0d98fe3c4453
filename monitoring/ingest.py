"""Batch ingest of metric points: validate the whole batch, then write it in one transaction.

Validation is plain Python rather than a DRF serializer per point: at 10,000 points a batch a
serializer costs more than the write itself. PostgreSQL writes with COPY (psycopg 3) through
Django's connection, so it joins the request's transaction; SQLite uses bulk_create.
"""

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from monitoring.models import Metric, MetricType

MAX_POINTS = 10_000
INGESTED_COUNTER_KEY = "monitoring:ingested_points_total"
# (field, max length) of the optional text fields.
TEXT_FIELDS = {"unit": 20, "source": 100, "endpoint": 200}
ALLOWED_FIELDS = {"name", "value", "metric_type", "category", "timestamp", "tags", *TEXT_FIELDS}
METRIC_TYPES = frozenset(MetricType.values)
CATEGORY = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
MAX_TAGS = 20
FUTURE_SLACK = timedelta(hours=1)
COPY_COLUMNS = ("metric_type", "category", "name", "value", "unit", "source", "endpoint", "tags", "timestamp")


class BatchInvalid(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(f"{len(errors)} invalid field(s)")
        self.errors = errors


@dataclass(frozen=True, slots=True)
class Point:
    metric_type: str
    category: str
    name: str
    value: float
    unit: str
    source: str
    endpoint: str
    tags: dict
    timestamp: datetime

    def copy_row(self) -> tuple:
        return (
            self.metric_type,
            self.category,
            self.name,
            self.value,
            self.unit,
            self.source,
            self.endpoint,
            json.dumps(self.tags, separators=(",", ":")),
            self.timestamp,
        )


def _timestamp(raw, now: datetime, oldest: datetime) -> datetime:
    if isinstance(raw, bool):
        raise ValueError("must be an ISO 8601 date-time or seconds since the epoch")
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            raise ValueError("must be a finite number of seconds since the epoch")
        moment = datetime.fromtimestamp(raw, tz=UTC)
    elif isinstance(raw, str):
        moment = datetime.fromisoformat(raw)  # ValueError names the problem
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)  # documented: a time without offset is UTC
    else:
        raise ValueError("must be an ISO 8601 date-time or seconds since the epoch")
    if moment > now + FUTURE_SLACK:
        raise ValueError("is more than an hour in the future")
    if moment < oldest:
        raise ValueError(f"is older than the retention period ({settings.METRICS_RETENTION_DAYS} days)")
    return moment


def _point(raw, now: datetime, oldest: datetime) -> tuple[Point | None, dict[str, str]]:
    if not isinstance(raw, dict):
        return None, {"": "must be an object"}
    errors: dict[str, str] = {}
    for unknown in raw.keys() - ALLOWED_FIELDS:
        errors[str(unknown)] = "is not a known field"
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        errors["name"] = "is required (a non-empty string)"
    elif len(name) > 200:
        errors["name"] = "must be at most 200 characters"
    value = raw.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors["value"] = "is required (a number)"
    elif not math.isfinite(value):
        errors["value"] = "must be a finite number"
    metric_type = raw.get("metric_type")
    if metric_type not in METRIC_TYPES:
        errors["metric_type"] = f"must be one of {', '.join(sorted(METRIC_TYPES))}"
    category = raw.get("category")
    if not isinstance(category, str) or not CATEGORY.match(category):
        errors["category"] = "is required: a lowercase slug (letters, digits, _), at most 50 characters"
    texts = {}
    for field_name, limit in TEXT_FIELDS.items():
        text = raw.get(field_name, "")
        if text is None:
            text = ""
        if not isinstance(text, str):
            errors[field_name] = "must be a string"
        elif len(text) > limit:
            errors[field_name] = f"must be at most {limit} characters"
        texts[field_name] = text
    tags = raw.get("tags") or {}
    if not isinstance(tags, dict):
        errors["tags"] = "must be an object of string keys to string, number or boolean values"
    elif len(tags) > MAX_TAGS:
        errors["tags"] = f"must have at most {MAX_TAGS} keys"
    elif any(
        len(k) > 50 or not isinstance(v, str | int | float | bool) or (isinstance(v, str) and len(v) > 200)
        for k, v in tags.items()
    ):
        errors["tags"] = "keys must be at most 50 characters, values strings (<= 200) or numbers"
    moment = now
    if raw.get("timestamp") is not None:
        try:
            moment = _timestamp(raw["timestamp"], now, oldest)
        except (ValueError, OverflowError, OSError) as exc:
            errors["timestamp"] = str(exc) if str(exc).startswith(("is ", "must")) else f"invalid: {exc}"
    if errors:
        return None, errors
    return Point(metric_type, category, name, float(value), timestamp=moment, tags=tags, **texts), {}


def points_validate(payload, *, now: datetime | None = None) -> list[Point]:
    """Turn a decoded JSON body (one point, a list, or {"points": [...]}) into Points.
    Raises BatchInvalid with every bad index and field ("points[3].value"), or ValueError when
    the batch itself is unusable."""
    if isinstance(payload, dict) and "points" in payload:
        payload = payload["points"]
    elif isinstance(payload, dict):
        payload = [payload]
    if not isinstance(payload, list):
        raise BatchInvalid({"points": ['must be a point object, a list of points or {"points": [...]}']})
    if not payload:
        raise BatchInvalid({"points": ["must contain at least one point"]})
    now = now or timezone.now()
    oldest = now - timedelta(days=settings.METRICS_RETENTION_DAYS)
    points, errors = [], {}
    for index, raw in enumerate(payload):
        point, point_errors = _point(raw, now, oldest)
        for field_name, message in point_errors.items():
            key = f"points[{index}].{field_name}" if field_name else f"points[{index}]"
            errors[key] = [message]
        points.append(point)
    if errors:
        raise BatchInvalid(errors)
    return points


def _copy(points: list[Point]) -> None:
    table = connection.ops.quote_name(Metric._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in COPY_COLUMNS)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for point in points:
            copy.write_row(point.copy_row())


def metric_points_write(*, points: list[Point]) -> int:
    """Write validated points atomically; returns how many were written."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            _copy(points)
        else:
            Metric.objects.bulk_create(
                [
                    Metric(
                        metric_type=p.metric_type,
                        category=p.category,
                        name=p.name,
                        value=p.value,
                        unit=p.unit,
                        source=p.source,
                        endpoint=p.endpoint,
                        tags=p.tags,
                        timestamp=p.timestamp,
                    )
                    for p in points
                ],
                batch_size=500,
            )
        count = len(points)
        transaction.on_commit(lambda: ingested_add(count))
    return count


def ingested_add(count: int) -> None:
    """Count ingested points in the shared cache (all web processes), for /metrics."""
    try:
        cache.incr(INGESTED_COUNTER_KEY, count)
    except ValueError:  # not there yet (or evicted): start it
        if not cache.add(INGESTED_COUNTER_KEY, count, timeout=None):
            cache.incr(INGESTED_COUNTER_KEY, count)


def ingested_total() -> int:
    return int(cache.get(INGESTED_COUNTER_KEY) or 0)
