"""Small formatting helpers for the public templates."""

from datetime import UTC, datetime

from django import template
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from statuspage.markup import markdown_to_text, render_markdown
from statuspage.models import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus

register = template.Library()

LEVEL_OF_STATUS = {
    ComponentStatus.OPERATIONAL: "operational",
    ComponentStatus.DEGRADED_PERFORMANCE: "degraded",
    ComponentStatus.PARTIAL_OUTAGE: "partial",
    ComponentStatus.MAJOR_OUTAGE: "major",
    ComponentStatus.UNDER_MAINTENANCE: "maintenance",
}
LEVEL_OF_IMPACT = {
    Impact.NONE: "none",
    Impact.MINOR: "degraded",
    Impact.MAJOR: "partial",
    Impact.CRITICAL: "major",
}


@register.filter
def markdown(text: str) -> SafeString:
    """Staff's Markdown as sanitised HTML (statuspage.markup)."""
    return render_markdown(text)


@register.filter
def markdown_summary(text: str, words: int = 30) -> str:
    """The first `words` words of the text, without markup: for a list of past incidents."""
    return Truncator(markdown_to_text(text)).words(int(words))


@register.filter
def status_level(status: str) -> str:
    return LEVEL_OF_STATUS.get(status, "none")


@register.filter
def impact_level(impact: str) -> str:
    return LEVEL_OF_IMPACT.get(impact, "none")


@register.filter
def status_label(status: str) -> str:
    for choices in (ComponentStatus, IncidentStatus, MaintenanceStatus, Impact):
        if status in choices.values:
            return choices(status).label
    return status


@register.filter
def duration(seconds: float) -> str:
    minutes = round((seconds or 0) / 60)
    if minutes < 1:
        return "under a minute"
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"


@register.filter
def percent(value: float | None) -> str:
    if value is None:
        return "no data"
    return f"{value:.2f} %"


@register.simple_tag
def utc_time(value: datetime | None, fmt: str = "M j, H:i") -> str:
    """A <time> in UTC, marked so; status.js rewrites it into the visitor's zone when it runs."""
    if value is None:
        return ""

    value = value.astimezone(UTC)
    return format_html(
        '<time datetime="{}" data-local>{} UTC</time>',
        value.isoformat(timespec="seconds").replace("+00:00", "Z"),
        date_format(value, fmt),
    )


@register.filter
def day_summary(figure) -> str:
    """One day's text (its bar's tooltip, and a line of the strip's text alternative)."""
    lines = [date_format(figure.day, "M j, Y")]
    if figure.uptime is None:
        lines.append("No data recorded.")
        return "\n".join(lines)
    lines.append(f"{figure.uptime_percent:.2f} % uptime")
    for label, seconds in (
        ("Major outage", figure.major_outage_seconds),
        ("Partial outage", figure.partial_outage_seconds),
        ("Degraded performance", figure.degraded_seconds),
        ("Maintenance", figure.maintenance_seconds),
    ):
        if seconds:
            lines.append(f"{label}: {duration(seconds)}")
    if figure.level == "operational":
        lines.append("No downtime recorded.")
    return "\n".join(lines)


def _runs(figures) -> list[tuple[int, int, str, str]]:
    """(first index, length, level, tooltip): quiet days (up all day, or no data) merged into one
    run each without a tooltip of their own, every day with something to tell on its own."""
    runs: list[tuple[int, int, str, str]] = []
    index = 0
    while index < len(figures):
        level = figures[index].level
        end = index + 1
        if level in QUIET_LEVELS:
            while end < len(figures) and figures[end].level == level:
                end += 1
            runs.append((index, end - index, level, ""))
        else:
            runs.append((index, 1, level, day_summary(figures[index])))
        index = end
    return runs


QUIET_LEVELS = ("operational", "none")


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def _headline(name: str, figures, percentage: float | None) -> str:
    return f"Uptime of {name} over the past {len(figures)} days: {percent(percentage)}."


def _text_alternative(headline: str, runs: list[tuple[int, int, str, str]]) -> str:
    lines = [headline]
    quiet = dict.fromkeys(QUIET_LEVELS, 0)
    for _first, length, level, text in runs:
        if level in QUIET_LEVELS:
            quiet[level] += length
        else:
            lines.append(text.replace("\n", ", ", 1).replace("\n", "; ") + ".")
    if quiet["operational"]:
        others = "the other " if len(lines) > 1 else ""
        lines.append(f"No downtime recorded on {others}{_days(quiet['operational'])}.")
    if quiet["none"]:
        lines.append(f"No data for {_days(quiet['none'])}.")
    return "\n".join(lines)


@register.simple_tag
def uptime_bars(name: str, figures, percentage: float | None) -> SafeString:
    """A component's daily bars as one focusable element holding one small SVG.

    Ninety elements with a tooltip each made a component about 11 kB of HTML, and a page of
    10,000 components 120 MB. Here quiet days share one rectangle and only days with something
    to tell get their own, with their text as an SVG <title> (the hover tooltip; over a quiet day
    the strip's own <title> shows its 90-day figure); the gaps between days are one dashed
    stroke. The text alternative is one aria-label listing the days that had trouble, which CSS
    also shows on keyboard focus."""
    days = len(figures)
    runs = _runs(figures)
    headline = _headline(name, figures, percentage)
    shapes = format_html_join(
        "",
        '<rect class="bar--{}" x="{}" width="{}" height="1">{}</rect>',
        (
            (level, first, length, format_html("<title>{}</title>", text) if text else "")
            for first, length, level, text in runs
        ),
    )
    return format_html(
        '<div class="bars" tabindex="0" role="img" aria-label="{}">'
        '<svg viewBox="0 0 {} 1" preserveAspectRatio="none" aria-hidden="true" focusable="false">'
        "<title>{}</title>{}"
        '<path class="bars__gaps" d="M-.075 .5H{}" stroke-width="1" stroke-dasharray=".15 .85"/>'
        "</svg></div>",
        _text_alternative(headline, runs),
        days,
        headline,
        shapes,
        days,
    )
