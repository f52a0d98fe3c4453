"""The quick way through an ingest batch: decode and type-check the body in one pass with msgspec
(C, typed structs), then only what types cannot say is checked per point in Python.

It decides only the common case, a batch where every point is good. Whenever it cannot be sure,
it answers None and the caller takes the full path (ingest.points_validate), which finds and
words every error. So the errors a client sees, and the atomic refusal of a bad batch, are the
full path's, and this module is never more lenient than it: each rule below is the full path's
rule or a stricter one. Stricter costs nothing but speed, for inputs the full path accepts in
its own way (a unit of null, a date-only timestamp, a tag with an escaped character).
"""

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

import msgspec

from monitoring.models import MetricType
from monitoring.writer import Point

MAX_FLOAT = 1.7e308  # a JSON integer beyond this does not fit a double (and float() would raise)
CATEGORY = re.compile(r"^[a-z][a-z0-9_]{0,49}$")

_Number = Annotated[float, msgspec.Meta(gt=-MAX_FLOAT, lt=MAX_FLOAT)]
_TagKey = Annotated[str, msgspec.Meta(max_length=50)]
_TagValue = Annotated[str, msgspec.Meta(max_length=200)] | bool | int | _Number


class _Point(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    value: _Number
    metric_type: Literal[tuple(MetricType.values)]  # type: ignore[valid-type]
    category: Annotated[str, msgspec.Meta(max_length=50)]
    unit: Annotated[str, msgspec.Meta(max_length=20)] = ""
    source: Annotated[str, msgspec.Meta(max_length=100)] = ""
    endpoint: Annotated[str, msgspec.Meta(max_length=200)] = ""
    tags: Annotated[dict[_TagKey, _TagValue], msgspec.Meta(max_length=20)] = {}
    timestamp: datetime | _Number | None = None


class _Envelope(msgspec.Struct, forbid_unknown_fields=True):
    points: list[_Point]


_decode = msgspec.json.Decoder(list[_Point] | _Envelope).decode
_encode = msgspec.json.Encoder().encode


def points_decode_quickly(
    body: bytes, *, now: datetime, oldest: datetime, future: datetime
) -> list[Point] | None:
    """The batch's points when every one is good, or None to take the full path."""
    # NUL characters and unpaired surrogates can only arrive as \u escapes; a body with one goes
    # the full path, which checks every string for them.
    if b"\\u" in body:
        return None
    try:
        document = _decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    raw_points = document if type(document) is list else document.points
    if not raw_points:
        return None
    good_categories: set[str] = set()
    points = []
    append = points.append
    for raw in raw_points:
        name, category = raw.name, raw.category
        if name.isspace():
            return None
        if category not in good_categories:
            if not CATEGORY.match(category):
                return None
            good_categories.add(category)
        stamp = raw.timestamp
        if stamp is None:
            moment = now
        elif type(stamp) is float:
            try:
                moment = datetime.fromtimestamp(stamp, tz=UTC)
            except (ValueError, OverflowError, OSError):
                return None
        else:
            moment = (stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)).astimezone(UTC)
        if not oldest <= moment <= future:
            return None
        tags = raw.tags
        if tags and not all(type(v) is not int or -MAX_FLOAT < v < MAX_FLOAT for v in tags.values()):
            return None
        append(
            Point(
                raw.metric_type,
                category,
                name,
                raw.value,
                raw.unit,
                raw.source,
                raw.endpoint,
                _encode(tags).decode() if tags else "{}",
                moment,
            )
        )
    return points
