"""Scheduled maintenance as iCalendar (RFC 5545), for calendar apps that subscribe to a URL:
the whole page's windows, or one component's. Cached like the pages and turned over with them.

Each window is one event with a UID that never changes, so a calendar app updates its copy
instead of adding a second one; SEQUENCE is the window's own counter, which the services raise
with every change a calendar shows. A cancelled window stays in the feed as STATUS:CANCELLED
(with its raised SEQUENCE), which is how a calendar app learns to remove it. Texts are cleaned
of control characters (core.text) and escaped by icalendar."""

from datetime import UTC, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from icalendar import Calendar, Event

from core.text import clean_line
from statuspage.cache import cached_public
from statuspage.markup import markdown_to_text
from statuspage.models import Component, Maintenance, MaintenanceStatus

PRODUCT = "-//Vigil//Status page maintenance//EN"
# Calendar apps re-read a feed every few hours; windows ended long ago need not travel each time.
FEED_PAST = timedelta(days=30)


def _host() -> str:
    return urlsplit(settings.PUBLIC_URL).hostname or "vigil"


def _event(window: Maintenance, stamp) -> Event:
    event = Event()
    event.add("uid", f"maintenance-{window.pk}@{_host()}")
    event.add("dtstamp", stamp)
    event.add("sequence", window.sequence)
    event.add("last-modified", window.updated_at.astimezone(UTC))
    event.add("dtstart", window.scheduled_for.astimezone(UTC))
    event.add("dtend", window.scheduled_until.astimezone(UTC))
    event.add("summary", f"Maintenance: {clean_line(window.title)}")
    components = ", ".join(clean_line(c.name) for c in window.components.all())
    lines = [markdown_to_text(window.description)] if window.description else []
    if components:
        lines.append(f"Affected: {components}")
    lines.append(f"Status: {MaintenanceStatus(window.status).label}")
    event.add("description", "\n\n".join(lines))
    event.add("url", f"{settings.PUBLIC_URL}{window.get_absolute_url()}")
    cancelled = window.status == MaintenanceStatus.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "TRANSPARENT")  # a window is not a meeting: it does not make anyone busy
    event.add("categories", ["Maintenance"])
    return event


def maintenance_calendar(title: str, windows) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", title)
    stamp = timezone.now().astimezone(UTC)
    for window in windows:
        calendar.add_component(_event(window, stamp))
    return calendar.to_ical()


def _windows(queryset):
    since = timezone.now() - FEED_PAST
    return (
        queryset.filter(scheduled_until__gte=since).prefetch_related("components").order_by("scheduled_for")
    )


def _ics(body: bytes) -> HttpResponse:
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")


@cached_public()
def maintenance_feed(request: HttpRequest):
    return _ics(
        maintenance_calendar(f"{settings.SITE_NAME}: maintenance", _windows(Maintenance.objects.all()))
    )


@cached_public()
def component_maintenance_feed(request: HttpRequest, pk: int):
    component = get_object_or_404(Component, pk=pk)
    title = f"{settings.SITE_NAME}: maintenance of {clean_line(component.name)}"
    return _ics(maintenance_calendar(title, _windows(component.maintenances.all())))
