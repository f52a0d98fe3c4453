"""When a check's next ping is due: pure functions over aware datetimes."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError


def time_zone_problem(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"Unknown time zone {name!r}; use an IANA name such as Europe/Berlin or UTC."
    return ""


def schedule_problem(expression: str) -> str:
    try:
        CronSim(expression, datetime(2000, 1, 1, tzinfo=ZoneInfo("UTC")))
    except CronSimError as exc:
        return f"Not a cron expression ({exc}); e.g. '0 2 * * *' for every day at 02:00."
    return ""


def next_due(*, kind: str, after: datetime, period_seconds: int, schedule: str, time_zone: str) -> datetime:
    """The time the ping after one at `after` is due. A cron schedule is read in its own time
    zone, so '0 2 * * *' stays 02:00 local across DST (on the day 02:00 does not exist, cron
    runs it at 03:00; so does this)."""
    if kind == "cron":
        local = after.astimezone(ZoneInfo(time_zone))
        # In UTC: adding the grace to a local time would be wall-clock arithmetic, an hour off
        # across a DST change.
        return next(CronSim(schedule, local)).astimezone(UTC)
    return after + timedelta(seconds=period_seconds)
