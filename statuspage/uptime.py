"""Daily uptime per component, from the status-change records.

The formula (printed on the page): for each UTC day,
    uptime = 1 − (major outage time + 0.3 × partial outage time) ÷ time observed
Degraded performance and maintenance count as up. The 90-day figure sums the same terms over the
days observed. Day rows are kept in ComponentUptimeDay: refreshed on each change (the service
calls component_uptime_refresh) and closed by the `rollup_uptime` job, so a page reads 90 rows per
component and never replays 90 days of changes.
"""

from dataclasses import dataclass
from datetime import UTC as utc
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from statuspage.models import Component, ComponentStatus, ComponentStatusChange, ComponentUptimeDay

PARTIAL_OUTAGE_WEIGHT = 0.3
WEIGHTS = {
    ComponentStatus.MAJOR_OUTAGE: 1.0,
    ComponentStatus.PARTIAL_OUTAGE: PARTIAL_OUTAGE_WEIGHT,
}
FORMULA = gettext_noop(
    "Uptime per UTC day = 1 − (major outage time + 0.3 × partial outage time) ÷ time observed. "
    "Degraded performance and scheduled maintenance count as up."
)
SECONDS_FIELD = {
    ComponentStatus.MAJOR_OUTAGE: "major_outage_seconds",
    ComponentStatus.PARTIAL_OUTAGE: "partial_outage_seconds",
    ComponentStatus.DEGRADED_PERFORMANCE: "degraded_seconds",
    ComponentStatus.UNDER_MAINTENANCE: "maintenance_seconds",
}
MAX_DAYS = 90


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=utc)


def _empty(day: date) -> dict:
    return {
        "observed_seconds": 0.0,
        "major_outage_seconds": 0.0,
        "partial_outage_seconds": 0.0,
        "degraded_seconds": 0.0,
        "maintenance_seconds": 0.0,
        "day": day,
    }


def compute_days(component: Component, first: date, last: date, now: datetime) -> list[dict]:
    """Seconds per state for each day first..last, up to `now`."""
    start = max(day_start(first), component.created_at)
    end = min(day_start(last) + timedelta(days=1), now)
    return list(_sweep(component, start, end, first, last).values())


def _sweep(component: Component, start: datetime, end: datetime, first: date, last: date) -> dict:
    """Seconds per state in [start, end), per UTC day first..last."""
    days = {
        first + timedelta(days=i): _empty(first + timedelta(days=i)) for i in range((last - first).days + 1)
    }
    for begin, finish, status in _segments(component, start, end):
        _spread(days, begin, finish, status)
    return days


def _segments(component: Component, start: datetime, end: datetime) -> list[tuple[datetime, datetime, str]]:
    """[begin, end, status] spans covering [start, end), from the status changes (two queries)."""
    changes = list(
        ComponentStatusChange.objects.filter(component=component, at__gte=start, at__lt=end)
        .order_by("at", "id")
        .values_list("at", "from_status", "to_status")
    )
    before = (
        ComponentStatusChange.objects.filter(component=component, at__lt=start)
        .order_by("-at", "-id")
        .values_list("to_status", flat=True)
        .first()
    )
    if before is not None:
        status = before
    elif changes:
        status = changes[0][1]
    else:
        # No change in or after the window start is stored: the current status held throughout
        # unless a later change exists, whose from_status then tells what held.
        later = (
            ComponentStatusChange.objects.filter(component=component, at__gte=end)
            .order_by("at", "id")
            .values_list("from_status", flat=True)
            .first()
        )
        status = later or component.status

    segments = []
    cursor = start
    points = [(at, to_status) for at, _from, to_status in changes] + [(end, None)]
    for at, next_status in points:
        if at > cursor:
            segments.append((cursor, at, status))
        cursor = max(cursor, at)
        if next_status is not None:
            status = next_status
    return segments


def _spread(days: dict, begin: datetime, end: datetime, status: str) -> None:
    """Add [begin, end) spent in `status` to the days it covers."""
    while begin < end:
        day = begin.astimezone(utc).date()
        boundary = min(day_start(day) + timedelta(days=1), end)
        seconds = (boundary - begin).total_seconds()
        if day in days:
            days[day]["observed_seconds"] += seconds
            field = SECONDS_FIELD.get(status)
            if field:
                days[day][field] += seconds
        begin = boundary


def component_uptime_refresh(
    component: Component, *, since: datetime, now: datetime | None = None, keep_closed: bool = False
) -> int:
    """Recompute the kept days from `since` through today (called inside the change's transaction).
    With keep_closed, days already closed are left alone (the rollup only fills gaps)."""
    now = now or timezone.now()
    today = now.astimezone(utc).date()
    first = max(since.astimezone(utc).date(), today - timedelta(days=MAX_DAYS - 1))
    first = max(first, component.created_at.astimezone(utc).date())
    if first > today:
        return 0
    rows = compute_days(component, first, today, now)
    if keep_closed:
        closed_days = set(
            ComponentUptimeDay.objects.filter(component=component, day__gte=first, closed=True).values_list(
                "day", flat=True
            )
        )
        rows = [row for row in rows if row["day"] not in closed_days]
    for row in rows:
        day = row.pop("day")
        closed = day < today
        ComponentUptimeDay.objects.update_or_create(
            component=component,
            day=day,
            defaults={
                **row,
                "computed_until": min(day_start(day) + timedelta(days=1), now),
                "closed": closed,
            },
        )
    return len(rows)


def uptime_rollup(*, now: datetime | None = None) -> str:
    """The beat job: bring every component's kept days up to now and close the finished ones.
    Safe twice at once: each component is refreshed under its row lock and rows are upserts on
    the (component, day) unique constraint."""
    now = now or timezone.now()
    today = now.astimezone(utc).date()
    refreshed = 0
    for pk in Component.objects.values_list("pk", flat=True):
        with transaction.atomic():
            component = Component.objects.select_for_update().filter(pk=pk).first()
            if component is None:
                continue
            # One sweep over the 90-day window (two queries); only days not yet closed are written.
            since = day_start(today - timedelta(days=MAX_DAYS - 1))
            refreshed += component_uptime_refresh(component, since=since, now=now, keep_closed=True)
    return f"uptime: {refreshed} component-days refreshed"


@dataclass
class DayFigure:
    day: date
    uptime: float | None  # None: no data that day (before the component existed)
    major_outage_seconds: float = 0.0
    partial_outage_seconds: float = 0.0
    degraded_seconds: float = 0.0
    maintenance_seconds: float = 0.0
    observed_seconds: float = 0.0

    @property
    def weighted_down(self) -> float:
        return self.major_outage_seconds + PARTIAL_OUTAGE_WEIGHT * self.partial_outage_seconds

    @property
    def uptime_percent(self) -> float | None:
        return None if self.uptime is None else self.uptime * 100

    @property
    def level(self) -> str:
        """The bar's colour class, by the worst thing that happened that day."""
        if self.uptime is None:
            return "none"
        if self.major_outage_seconds:
            return "major"
        if self.partial_outage_seconds:
            return "partial"
        if self.degraded_seconds:
            return "degraded"
        if self.maintenance_seconds:
            return "maintenance"
        return "operational"

    def as_dict(self) -> dict:
        return {
            "date": self.day.isoformat(),
            "uptime_percentage": None if self.uptime is None else round(self.uptime * 100, 3),
            "observed_seconds": round(self.observed_seconds),
            "major_outage_seconds": round(self.major_outage_seconds),
            "partial_outage_seconds": round(self.partial_outage_seconds),
            "degraded_performance_seconds": round(self.degraded_seconds),
            "under_maintenance_seconds": round(self.maintenance_seconds),
        }


def _figure(day: date, row, component: Component, now: datetime) -> DayFigure:
    today = now.astimezone(utc).date()
    if row is None:
        if day == today and component.created_at <= now:
            # Nothing changed today (a change writes today's row): the current status held since
            # midnight or since the component was created.
            row = ComponentUptimeDay(
                component=component, day=day, computed_until=max(day_start(day), component.created_at)
            )
        else:
            return DayFigure(day=day, uptime=None)
    figure = DayFigure(
        day=day,
        uptime=None,
        major_outage_seconds=row.major_outage_seconds,
        partial_outage_seconds=row.partial_outage_seconds,
        degraded_seconds=row.degraded_seconds,
        maintenance_seconds=row.maintenance_seconds,
        observed_seconds=row.observed_seconds,
    )
    if day == today and row.computed_until < now:
        # Extend today's open row with the current status up to now.
        extra = (now - row.computed_until).total_seconds()
        figure.observed_seconds += extra
        field = SECONDS_FIELD.get(component.status)
        if field:
            setattr(figure, field, getattr(figure, field) + extra)
    if figure.observed_seconds > 0:
        figure.uptime = max(0.0, 1 - figure.weighted_down / figure.observed_seconds)
    return figure


def figures_for(components: list[Component], *, days: int = MAX_DAYS, now: datetime | None = None) -> dict:
    """{component id: [DayFigure oldest→today]} for all components in one query."""
    now = now or timezone.now()
    today = now.astimezone(utc).date()
    return figures_between(components, first=today - timedelta(days=days - 1), last=today, now=now)


def figures_between(
    components: list[Component], *, first: date, last: date, now: datetime | None = None
) -> dict:
    """{component id: [DayFigure first→last]} for all components in one query: the page's figures
    for any span of kept days (reports and SLOs read these, so they share the page's formula).
    A day after today has no data; today is extended up to now."""
    now = now or timezone.now()
    days = (last - first).days + 1
    rows: dict[tuple[int, date], ComponentUptimeDay] = {
        (row.component_id, row.day): row
        for row in ComponentUptimeDay.objects.filter(
            component__in=[c.pk for c in components], day__gte=first, day__lte=last
        )
    }
    result = {}
    for component in components:
        result[component.pk] = [
            _figure(
                first + timedelta(days=i), rows.get((component.pk, first + timedelta(days=i))), component, now
            )
            for i in range(days)
        ]
    return result


def interval_figures(component: Component, starts: list[datetime], end: datetime) -> list[DayFigure]:
    """For each start, the seconds in each state over [start, end), replayed from the status
    changes of the longest span once (spans shorter than a day, such as an SLO's burn-rate
    windows), each as one figure with the page's formula applied."""
    earliest = max(min(starts), component.created_at)
    segments = _segments(component, earliest, end) if earliest < end else []
    figures = []
    for start in starts:
        figure = DayFigure(day=start.astimezone(utc).date(), uptime=None)
        for begin, finish, status in segments:
            seconds = (min(finish, end) - max(begin, start)).total_seconds()
            if seconds <= 0:
                continue
            figure.observed_seconds += seconds
            field = SECONDS_FIELD.get(status)
            if field:
                setattr(figure, field, getattr(figure, field) + seconds)
        if figure.observed_seconds > 0:
            figure.uptime = max(0.0, 1 - figure.weighted_down / figure.observed_seconds)
        figures.append(figure)
    return figures


def totals(figures: list[DayFigure]) -> tuple[float, float]:
    """(seconds observed, weighted seconds down) over the days with data."""
    observed = sum(f.observed_seconds for f in figures if f.uptime is not None)
    down = sum(f.weighted_down for f in figures if f.uptime is not None)
    return observed, down


def ratio(figures: list[DayFigure]) -> float | None:
    """The uptime over these days, unrounded (SLOs compare it with a target such as 99.95 %)."""
    observed, down = totals(figures)
    if not observed:
        return None
    return 1 - down / observed


def percentage(figures: list[DayFigure]) -> float | None:
    value = ratio(figures)
    return None if value is None else round(100 * value, 2)
