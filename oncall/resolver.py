"""Who is on call: pure functions over a schedule's plan (no database, no clock).

A plan is read from the database once (oncall.queries) and then answers any number of lookups.
Every instant given in and handed out is an aware datetime; the results are in UTC. Local time
matters in two places only, both read in the schedule's zone:

- Daily and weekly hand-offs happen at the local hand-off time, so a 09:00 hand-off stays at
  09:00 on the wall clock when the clocks change (that shift is 23 or 25 hours long).
- A rotation every N hours counts elapsed hours from the first hand-off: its shifts are always N
  hours long, and across a clock change the local hand-off time moves by the change.

A local time that the clocks skip (02:30 on the spring-forward night in Europe/Berlin) happens
when the clocks have moved on (03:30); one that happens twice (the fall-back night) happens the
first time. Restrictions (covered weekdays and hours) are read the same way.

Precedence: an override beats every layer (the latest override wins where overrides overlap);
otherwise the highest layer that covers the instant and has begun names the person.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

DAILY, WEEKLY, HOURS = "daily", "weekly", "hours"
# The instants a schedule answers for: wide enough for any rota, narrow enough that the day before
# or the horizon after an instant never leaves the years a Python date can hold.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
OUT_OF_RANGE = "Give a date between 1900 and 9000."


def in_range(at: datetime) -> bool:
    return EARLIEST <= at < LATEST


MIDNIGHT = time(0, 0)
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Layer:
    level: int
    members: tuple[int, ...]  # user ids in rotation order
    rotation: str  # DAILY, WEEKLY or HOURS
    starts_on: date
    handoff: time
    shift_hours: int | None = None
    weekdays: frozenset[int] = frozenset()  # 0 = Monday; empty: every day
    covers_from: time | None = None  # local; None (with covers_to None): all day
    covers_to: time | None = None  # local; at or before covers_from: the next day


@dataclass(frozen=True, slots=True)
class Override:
    user_id: int
    starts_at: datetime
    ends_at: datetime
    order: int = 0  # the higher wins where overrides overlap (the later one made)


@dataclass(frozen=True, slots=True)
class Plan:
    zone: ZoneInfo
    layers: tuple[Layer, ...] = ()
    overrides: tuple[Override, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(sorted(self.layers, key=lambda layer: -layer.level)))
        object.__setattr__(self, "overrides", tuple(sorted(self.overrides, key=lambda o: -o.order)))


@dataclass(frozen=True, slots=True)
class Shift:
    """A stretch of time with one person on call, or nobody (user_id None: a gap)."""

    starts_at: datetime
    ends_at: datetime
    user_id: int | None

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at) / timedelta(hours=1)


@lru_cache(maxsize=65536)
def local_instant(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local day and time in a zone. Cached: a bulk lookup asks for the same
    hand-offs again and again."""
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def _shift_index(layer: Layer, zone: ZoneInfo, at: datetime) -> tuple[int, datetime, datetime] | None:
    """(shift number, its start, its end) of the layer's rotation at `at`; None before it begins."""
    if layer.rotation == HOURS:
        first = local_instant(layer.starts_on, layer.handoff, zone)
        if at < first:
            return None
        length = timedelta(hours=layer.shift_hours or 1)
        index = (at - first) // length
        start = first + index * length
        return index, start, start + length
    day = at.astimezone(zone).date()
    if at < local_instant(day, layer.handoff, zone):
        day -= ONE_DAY
    days = (day - layer.starts_on).days
    if days < 0:
        return None
    period = 7 if layer.rotation == WEEKLY else 1
    index = days // period
    first_day = layer.starts_on + timedelta(days=index * period)
    return (
        index,
        local_instant(first_day, layer.handoff, zone),
        local_instant(first_day + timedelta(days=period), layer.handoff, zone),
    )


def _windows(layer: Layer, zone: ZoneInfo, day: date) -> tuple[datetime, datetime] | None:
    """The covered stretch that begins on a local day, or None if the layer skips that day."""
    if layer.weekdays and day.weekday() not in layer.weekdays:
        return None
    begin = layer.covers_from or MIDNIGHT
    end = layer.covers_to or MIDNIGHT
    end_day = day + ONE_DAY if end <= begin else day
    return local_instant(day, begin, zone), local_instant(end_day, end, zone)


def _restricted(layer: Layer) -> bool:
    return bool(layer.weekdays) or layer.covers_from is not None


def _covers(layer: Layer, zone: ZoneInfo, at: datetime) -> bool:
    if not _restricted(layer):
        return True
    today = at.astimezone(zone).date()
    # A window that began yesterday may run past midnight into today.
    for day in (today - ONE_DAY, today):
        window = _windows(layer, zone, day)
        if window is not None and window[0] <= at < window[1]:
            return True
    return False


def layer_on_call(layer: Layer, zone: ZoneInfo, at: datetime) -> int | None:
    if not layer.members or not _covers(layer, zone, at):
        return None
    shift = _shift_index(layer, zone, at)
    if shift is None:
        return None
    return layer.members[shift[0] % len(layer.members)]


def on_call(plan: Plan, at: datetime) -> int | None:
    """The id of the person on call at `at` (aware), or None: nobody (a gap)."""
    for override in plan.overrides:
        if override.starts_at <= at < override.ends_at:
            return override.user_id
    for layer in plan.layers:
        user_id = layer_on_call(layer, plan.zone, at)
        if user_id is not None:
            return user_id
    return None


def on_call_many(plan: Plan, instants: Iterable[datetime]) -> list[int | None]:
    """on_call for many instants of one plan, in the order given."""
    return [on_call(plan, at) for at in instants]


def _boundaries(plan: Plan, start: datetime, end: datetime) -> list[datetime]:
    """Every instant in [start, end) where the answer may change: hand-offs, the edges of covered
    hours and days, and the ends of overrides."""
    found = {start}
    first_day = start.astimezone(plan.zone).date() - ONE_DAY
    last_day = end.astimezone(plan.zone).date() + ONE_DAY
    for layer in plan.layers:
        begins = local_instant(layer.starts_on, layer.handoff, plan.zone)
        found.add(begins)
        shift = _shift_index(layer, plan.zone, max(start, begins))
        while shift is not None and shift[2] < end:
            found.add(shift[2])
            shift = _shift_index(layer, plan.zone, shift[2])
        if _restricted(layer):
            day = first_day
            while day <= last_day:
                window = _windows(layer, plan.zone, day)
                if window is not None:
                    found.update(window)
                day += ONE_DAY
    for override in plan.overrides:
        found.update((override.starts_at, override.ends_at))
    return sorted(at for at in found if start <= at < end)


def timeline(plan: Plan, start: datetime, end: datetime) -> list[Shift]:
    """Who is on call from start to end, as consecutive shifts (nobody: user_id None), each as
    long as the same answer lasts."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    shifts: list[Shift] = []
    points = _boundaries(plan, start, end)
    for begin, finish in zip(points, [*points[1:], end], strict=True):
        user_id = on_call(plan, begin)
        if shifts and shifts[-1].user_id == user_id:
            shifts[-1] = Shift(shifts[-1].starts_at, finish, user_id)
        else:
            shifts.append(Shift(begin, finish, user_id))
    return shifts


def gaps(shifts: Sequence[Shift]) -> list[Shift]:
    return [shift for shift in shifts if shift.user_id is None]
