"""Batch ingest of metric points: validate the whole batch, then write it in one transaction.

Validation is plain Python rather than a DRF serializer per point: at 10,000 points a batch a
serializer costs more than the write itself. PostgreSQL writes with COPY (psycopg 3) through
Django's connection, so it joins the request's transaction; SQLite uses bulk_create.
"""

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from monitoring.ingest_fast import CATEGORY, MAX_FLOAT, points_decode_quickly
from monitoring.models import IngestKey, MetricType
from monitoring.writer import Point, metrics_write

MAX_POINTS = 10_000
INGESTED_COUNTER_KEY = "monitoring:ingested_points_total"
# (field, max length) of the optional text fields.
TEXT_FIELDS = {"unit": 20, "source": 100, "endpoint": 200}
ALLOWED_FIELDS = {"name", "value", "metric_type", "category", "timestamp", "tags", *TEXT_FIELDS}
METRIC_TYPES = frozenset(MetricType.values)
MAX_TAGS = 20
FUTURE_SLACK = timedelta(hours=1)
INGEST_KEY_DAYS = 1  # how long an Idempotency-Key is remembered (purged by ingest_keys_purge)
INGEST_KEY_MAX_LENGTH = 255


class BatchInvalid(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(f"{len(errors)} invalid field(s)")
        self.errors = errors


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
    # In UTC: ISO 8601 allows offsets up to ±23:59, PostgreSQL stores none beyond ±15:59.
    moment = moment.astimezone(UTC)
    if moment > now + FUTURE_SLACK:
        raise ValueError("is more than an hour in the future")
    if moment < oldest:
        raise ValueError(f"is older than the retention period ({settings.METRICS_RETENTION_DAYS} days)")
    return moment


_dumps = json.JSONEncoder(separators=(",", ":")).encode
_NUMBER = (int, float)


def _tags_error(tags) -> str | None:
    if not isinstance(tags, dict):
        return "must be an object of string keys to string, number or boolean values"
    if len(tags) > MAX_TAGS:
        return f"must have at most {MAX_TAGS} keys"
    for key, value in tags.items():
        if len(key) > 50 or "\x00" in key:
            return "keys must be at most 50 characters, without NUL characters"
        if isinstance(value, str):
            if len(value) > 200 or "\x00" in value:
                return "string values must be at most 200 characters, without NUL characters"
        elif not isinstance(value, _NUMBER) or not -MAX_FLOAT < value < MAX_FLOAT:
            return "values must be strings, numbers or booleans"
    return None


def _point(raw, now: datetime, oldest: datetime) -> tuple[Point | None, dict[str, str] | None]:
    """Validate one point. Written for speed (it runs 10,000 times per batch): plain type
    checks, and the slow error path only when something is wrong."""
    if type(raw) is not dict:
        return None, {"": "must be an object"}
    errors: dict[str, str] = {}
    if not raw.keys() <= ALLOWED_FIELDS:
        for unknown in raw.keys() - ALLOWED_FIELDS:
            errors[str(unknown)] = "is not a known field"
    get = raw.get
    name = get("name")
    if type(name) is not str or not name or name.isspace() or "\x00" in name:
        errors["name"] = "is required (a non-empty string)"
    elif len(name) > 200:
        errors["name"] = "must be at most 200 characters"
    value = get("value")
    if type(value) is float:
        if not math.isfinite(value):
            errors["value"] = "must be a finite number"
    elif type(value) is not int:
        errors["value"] = "is required (a number)"
    elif not -MAX_FLOAT < value < MAX_FLOAT:
        errors["value"] = "is too large for a double-precision number"
    metric_type = get("metric_type")
    if metric_type not in METRIC_TYPES:
        errors["metric_type"] = f"must be one of {', '.join(sorted(METRIC_TYPES))}"
    category = get("category")
    if type(category) is not str or not CATEGORY.match(category):
        errors["category"] = "is required: a lowercase slug (letters, digits, _), at most 50 characters"
    texts = []
    for field_name, limit in TEXT_FIELDS.items():
        text = get(field_name) or ""
        if type(text) is not str or "\x00" in text:
            errors[field_name] = "must be a string (without NUL characters)"
        elif len(text) > limit:
            errors[field_name] = f"must be at most {limit} characters"
        texts.append(text)
    tags = get("tags")
    tags_json = "{}"
    if tags:
        problem = _tags_error(tags)
        if problem:
            errors["tags"] = problem
        else:
            tags_json = _dumps(tags)
    moment = now
    stamp = get("timestamp")
    if stamp is not None:
        try:
            moment = _timestamp(stamp, now, oldest)
        except (ValueError, OverflowError, OSError) as exc:
            message = str(exc)
            errors["timestamp"] = message if message.startswith(("is ", "must")) else f"invalid: {message}"
    if errors:
        return None, errors
    unit, source, endpoint = texts
    return Point(metric_type, category, name, float(value), unit, source, endpoint, tags_json, moment), None


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
        for field_name, message in (point_errors or {}).items():
            key = f"points[{index}].{field_name}" if field_name else f"points[{index}]"
            errors[key] = [message]
        points.append(point)
    if errors:
        raise BatchInvalid(errors)
    return points


def points_quick(body: bytes, *, now: datetime | None = None) -> list[Point] | None:
    """The points of a JSON body in which every point is good, decoded and checked in one pass
    (ingest_fast.py); None when that cannot be said, and points_validate must decide and word
    the errors."""
    now = now or timezone.now()
    oldest = now - timedelta(days=settings.METRICS_RETENTION_DAYS)
    return points_decode_quickly(body, now=now, oldest=oldest, future=now + FUTURE_SLACK)


class IdempotencyKeyReused(Exception):
    """The Idempotency-Key was already used for a different batch (the API answers 422)."""


@dataclass(frozen=True)
class Idempotency:
    user_id: int
    key: str
    body_sha256: str

    @classmethod
    def of(cls, *, user_id: int, key: str, payload) -> "Idempotency":
        """The batch is compared as decoded JSON, so a resend formatted differently (spacing, key
        order) is still the same batch."""
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return cls(user_id=user_id, key=key, body_sha256=hashlib.sha256(canonical.encode()).hexdigest())


@dataclass(frozen=True)
class IngestResult:
    written: int
    replayed: bool = False  # an earlier request with this key wrote the batch; nothing written now


def ingest_key_problem(key: str) -> str | None:
    if not key or len(key) > INGEST_KEY_MAX_LENGTH or not (key.isascii() and key.isprintable()):
        return f"Idempotency-Key must be 1 to {INGEST_KEY_MAX_LENGTH} printable ASCII characters."
    return None


def ingest_key_answer(idempotency: Idempotency) -> IngestResult | None:
    """The answer already given for this key, or None if the key is new."""
    row = IngestKey.objects.filter(user_id=idempotency.user_id, key=idempotency.key).first()
    if row is None:
        return None
    if row.body_sha256 != idempotency.body_sha256:
        raise IdempotencyKeyReused("This Idempotency-Key was already used with a different batch.")
    return IngestResult(written=row.written, replayed=True)


def metric_points_write(*, points: list[Point], idempotency: Idempotency | None = None) -> IngestResult:
    """Write validated points atomically. With an Idempotency-Key, the key is stored in the same
    transaction: a resend while the first is still writing waits on the key's unique index
    (PostgreSQL) or the write lock (SQLite), then finds the key and writes nothing."""
    with transaction.atomic():
        if idempotency is not None:
            try:
                with transaction.atomic():
                    key_row = IngestKey.objects.create(
                        user_id=idempotency.user_id, key=idempotency.key, body_sha256=idempotency.body_sha256
                    )
            except IntegrityError:
                answer = ingest_key_answer(idempotency)
                if answer is not None:
                    return answer
                raise  # the row was purged in between: let the client try again
        count = metrics_write(points)
        if idempotency is not None:
            IngestKey.objects.filter(pk=key_row.pk).update(written=count)
        transaction.on_commit(lambda: ingested_add(count))
    return IngestResult(written=count)


def ingested_add(count: int) -> None:
    """Count ingested points in the shared cache (all web processes), for /metrics."""
    try:
        cache.incr(INGESTED_COUNTER_KEY, count)
    except ValueError:  # not there yet (or evicted): start it
        if not cache.add(INGESTED_COUNTER_KEY, count, timeout=None):
            cache.incr(INGESTED_COUNTER_KEY, count)


def ingested_total() -> int:
    return int(cache.get(INGESTED_COUNTER_KEY) or 0)
