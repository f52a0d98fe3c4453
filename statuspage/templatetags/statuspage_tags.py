"""Small formatting helpers for the public templates, in the visitor's language (core.i18n)."""

from datetime import UTC, date, datetime

from django import template
from django.utils import translation
from django.utils.dateformat import format as date_format
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext

from core.i18n import language_choices
from statuspage.markup import markdown_to_text, render_markdown
from statuspage.models import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus
from subscribers.models import SubscriberStatus

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
            return gettext(choices(status).label)
    return status


@register.filter
def subscriber_status_label(status: str) -> str:
    return gettext(SubscriberStatus(status).label) if status in SubscriberStatus.values else status


@register.filter
def duration(seconds: float) -> str:
    minutes = round((seconds or 0) / 60)
    if minutes < 1:
        return gettext("under a minute")
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return gettext("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    if hours:
        return gettext("%(hours)d h") % {"hours": hours}
    return gettext("%(minutes)d min") % {"minutes": minutes}


def _number(value: float) -> str:
    """Two decimals with the language's decimal mark (99.95 in English, 99,95 in German)."""
    return number_format(value, 2)


@register.filter
def percent(value: float | None) -> str:
    if value is None:
        return gettext("no data")
    return f"{_number(value)} %"


# Date and time formats (Django's date format characters) per language and purpose: the order of
# day, month and year and the punctuation differ ("Dec 3, 14:05", "3. Dez., 14:05", "3 déc., 14:05");
# the month names come from Django's own translations.
PUBLIC_FORMATS = {
    "en": {"day_time": "M j, H:i", "date_time": "M j, Y · H:i", "date": "M j, Y", "month": "F Y"},
    "de": {"day_time": "j. M, H:i", "date_time": "j. M Y · H:i", "date": "j. M Y", "month": "F Y"},
    "fr": {"day_time": "j M, H:i", "date_time": "j M Y · H:i", "date": "j M Y", "month": "F Y"},
}


def public_format(purpose: str) -> str:
    language = (translation.get_language() or "en").split("-")[0]
    return PUBLIC_FORMATS.get(language, PUBLIC_FORMATS["en"])[purpose]


@register.filter
def public_date(value: date | datetime, purpose: str = "date") -> str:
    return date_format(value, public_format(purpose))


@register.simple_tag
def utc_time(value: datetime | None, purpose: str = "day_time") -> str:
    """A <time> in UTC, marked so; status.js rewrites it into the visitor's zone when it runs."""
    if value is None:
        return ""

    value = value.astimezone(UTC)
    return format_html(
        '<time datetime="{}" data-local>{} UTC</time>',
        value.isoformat(timespec="seconds").replace("+00:00", "Z"),
        date_format(value, public_format(purpose)),
    )


@register.inclusion_tag("statuspage/_language_picker.html", takes_context=True)
def language_picker(context) -> dict:
    """The page's language picker. `next` is the path only: the page is cached per path and the
    parameters it reads, so any other part of the URL must not end up in the cached copy."""
    request = context.get("request")
    return {
        "languages": language_choices(),
        "current": translation.get_language(),
        "next": request.path if request is not None else "/",
    }


@register.filter
def day_summary(figure) -> str:
    """One day's text (its bar's tooltip, and a line of the strip's text alternative)."""
    lines = [date_format(figure.day, public_format("date"))]
    if figure.uptime is None:
        lines.append(gettext("No data recorded."))
        return "\n".join(lines)
    lines.append(gettext("%(figure)s %% uptime") % {"figure": _number(figure.uptime_percent)})
    for label, seconds in (
        (gettext("Major outage"), figure.major_outage_seconds),
        (gettext("Partial outage"), figure.partial_outage_seconds),
        (gettext("Degraded performance"), figure.degraded_seconds),
        (gettext("Maintenance"), figure.maintenance_seconds),
    ):
        if seconds:
            lines.append(f"{label}: {duration(seconds)}")
    if figure.level == "operational":
        lines.append(gettext("No downtime recorded."))
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


def _headline(name: str, figures, percentage: float | None) -> str:
    return gettext("Uptime of %(name)s over the past %(days)d days: %(figure)s.") % {
        "name": name,
        "days": len(figures),
        "figure": percent(percentage),
    }


def _text_alternative(headline: str, runs: list[tuple[int, int, str, str]]) -> str:
    lines = [headline]
    quiet = dict.fromkeys(QUIET_LEVELS, 0)
    for _first, length, level, text in runs:
        if level in QUIET_LEVELS:
            quiet[level] += length
        else:
            lines.append(text.replace("\n", ", ", 1).replace("\n", "; ") + ".")
    if quiet["operational"]:
        days = quiet["operational"]
        if len(lines) > 1:
            text = ngettext(
                "No downtime recorded on the other %(days)d day.",
                "No downtime recorded on the other %(days)d days.",
                days,
            )
        else:
            text = ngettext(
                "No downtime recorded on %(days)d day.", "No downtime recorded on %(days)d days.", days
            )
        lines.append(text % {"days": days})
    if quiet["none"]:
        days = quiet["none"]
        text = ngettext("No data for %(days)d day.", "No data for %(days)d days.", days)
        lines.append(text % {"days": days})
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
