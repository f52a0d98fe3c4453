"""Shields-style SVG badges: the page's overall status, and a component's status and uptime,
for READMEs, wikis and dashboards. Each is a small cached document like the page itself
(statuspage.cache), so a badge on a busy page costs what the page costs. Text is escaped and
the SVG holds no script or link; a text alternative (<title>, aria-label) says what it shows."""

from pathlib import Path

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.utils.html import escape

from statuspage import queries, uptime
from statuspage.cache import cached_public
from statuspage.models import Component, ComponentStatus, Impact
from statuspage.queries import MAINTENANCE_DESCRIPTION

GREY = "#555"
STATUS_COLOURS = {
    ComponentStatus.OPERATIONAL: "#2f9e44",
    ComponentStatus.DEGRADED_PERFORMANCE: "#f08c00",
    ComponentStatus.PARTIAL_OUTAGE: "#e8590c",
    ComponentStatus.MAJOR_OUTAGE: "#e03131",
    ComponentStatus.UNDER_MAINTENANCE: "#1c7ed6",
}
IMPACT_COLOURS = {
    Impact.NONE: "#2f9e44",
    Impact.MINOR: "#f08c00",
    Impact.MAJOR: "#e8590c",
    Impact.CRITICAL: "#e03131",
}
MAINTENANCE_COLOUR = STATUS_COLOURS[ComponentStatus.UNDER_MAINTENANCE]
# Widths of Verdana at 11 px (what shields-style badges are set in), in pixels per character;
# close enough to size a badge without a font file on the server.
NARROW, WIDE = set("iljtf.,:;!'|()[] "), set("mwMW%@")
UPPER = 7.5


def text_width(text: str) -> float:
    width = 0.0
    for char in text:
        if char in NARROW:
            width += 3.6
        elif char in WIDE:
            width += 10.0
        elif char.isupper() or char.isdigit():
            width += UPPER
        else:
            width += 6.6
    return width


def badge_svg(label: str, message: str, colour: str) -> str:
    """A flat two-part badge: `label` on grey, `message` on `colour`."""
    left, right = round(text_width(label) + 10), round(text_width(message) + 10)
    total = left + right
    label_e, message_e = escape(label), escape(message)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{label_e}: {message_e}">'
        f"<title>{label_e}: {message_e}</title>"
        f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{left}" height="20" fill="{GREY}"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{colour}"/></g>'
        f'<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" '
        f'font-size="11"><text x="{left / 2:g}" y="14">{label_e}</text>'
        f'<text x="{left + right / 2:g}" y="14">{message_e}</text></g></svg>'
    )


def _svg(label: str, message: str, colour: str) -> HttpResponse:
    return HttpResponse(badge_svg(label, message, colour), content_type="image/svg+xml; charset=utf-8")


def _component(pk: int) -> Component:
    return get_object_or_404(Component, pk=pk)


@cached_public()
def overall_badge(request: HttpRequest):
    state = queries.page_state(with_uptime=False)
    overall = state.overall
    colour = (
        MAINTENANCE_COLOUR
        if overall.description == MAINTENANCE_DESCRIPTION
        else IMPACT_COLOURS[overall.indicator]
    )
    return _svg("status", overall.description, colour)


@cached_public()
def component_status_badge(request: HttpRequest, pk: int):
    component = _component(pk)
    status = ComponentStatus(component.status)
    return _svg(component.name, status.label.lower(), STATUS_COLOURS[status])


def uptime_colour(percent: float | None) -> str:
    if percent is None:
        return GREY
    if percent >= 99.9:
        return "#2f9e44"
    if percent >= 99.0:
        return "#74b816"
    if percent >= 95.0:
        return "#f08c00"
    return "#e03131"


@cached_public(params={"days": 30})
def component_uptime_badge(request: HttpRequest, pk: int):
    raw = request.GET.get("days", "30")
    # isascii(): "²".isdigit() is true too, and int() refuses it.
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= uptime.MAX_DAYS:
        return HttpResponseBadRequest(
            f"days must be a whole number from 1 to {uptime.MAX_DAYS}\n",
            content_type="text/plain; charset=utf-8",
        )
    days = int(raw)
    component = _component(pk)
    percent = uptime.percentage(uptime.figures_for([component], days=days)[component.pk])
    message = "no data" if percent is None else f"{percent:.2f}%"
    return _svg(f"uptime {days}d", message, uptime_colour(percent))


# Served at a fixed address (/widget.js) rather than as a hashed static file: a site that embeds
# it keeps one URL for good.
WIDGET = (Path(__file__).parent / "static" / "statuspage" / "widget.js").read_bytes()


@cached_public()
def widget_script(request: HttpRequest):
    return HttpResponse(WIDGET, content_type="text/javascript; charset=utf-8")
