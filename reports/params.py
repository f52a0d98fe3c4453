"""The query of an uptime export (API and admin read it alike): from, to, format, components."""

import csv
import io
from datetime import UTC, date, datetime

from reports.builder import Period

FORMATS = ("json", "csv")
MAX_DAYS = 366
CSV_FIELDS = [
    "id",
    "name",
    "group",
    "uptime_percentage",
    "observed_seconds",
    "major_outage_seconds",
    "partial_outage_seconds",
    "degraded_performance_seconds",
    "under_maintenance_seconds",
    "downtime_minutes",
    "uptime_minutes",
]


class QueryError(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _day(raw: str, name: str) -> date:
    # Exactly YYYY-MM-DD: fromisoformat alone also takes 20260301 and week dates.
    if not (raw.isascii() and len(raw) == 10 and raw[4] == raw[7] == "-"):
        raise QueryError({name: f"{name} must be a date, YYYY-MM-DD."})
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise QueryError({name: f"{name} must be a date, YYYY-MM-DD."}) from None


def parse_query(query, now: datetime, *, formats=FORMATS) -> tuple[Period, str, list[int] | None]:
    """Period (`from` and `to` inclusive, UTC days; default: this month so far), format and
    component ids; QueryError names each bad parameter."""
    today = now.astimezone(UTC).date()
    errors = {}
    first = last = None
    try:
        last = _day(query["to"], "to") if query.get("to") else today
    except QueryError as exc:
        errors.update(exc.errors)
    try:
        first = _day(query["from"], "from") if query.get("from") else (last or today).replace(day=1)
    except QueryError as exc:
        errors.update(exc.errors)
    if first and last:
        if last > today:
            errors["to"] = "to must not be after today (UTC)."
        elif first > last:
            errors["to"] = "to must not be before from."
        elif (last - first).days + 1 > MAX_DAYS:
            errors["from"] = f"The period is at most {MAX_DAYS} days."
    fmt = query.get("format") or formats[0]
    if fmt not in formats:
        errors["format"] = f"format must be one of {', '.join(formats)}."
    ids = None
    raw = query.get("components")
    if raw:
        parts = raw.split(",")
        if len(parts) > 1000 or not all(p.isascii() and p.isdigit() and len(p) <= 12 for p in parts):
            errors["components"] = "components must be component ids separated by commas."
        else:
            ids = [int(p) for p in parts]
    if errors:
        raise QueryError(errors)
    return Period(first, last), fmt, ids


def uptime_csv(data: dict) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["from", "to", *CSV_FIELDS], extrasaction="ignore")
    writer.writeheader()
    for row in data["components"]:
        # A name starting with = + - @ is written as text, not a formula a spreadsheet would run.
        safe = {**row, "name": _text(row["name"]), "group": _text(row["group"])}
        writer.writerow({"from": data["from"], "to": data["to"], **safe})
    return out.getvalue()


def _text(value: str | None) -> str | None:
    return "'" + value if value and value[0] in "=+-@" else value


def csv_filename(data: dict) -> str:
    return f"vigil-uptime-{data['from']}-{data['to']}.csv"
