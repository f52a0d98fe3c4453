"""Public HTML pages, each served from the page cache (statuspage/cache.py)."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.paginator import InvalidPage, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from statuspage import queries, uptime, visitor_reports
from statuspage.cache import cached_public
from statuspage.models import Incident, Maintenance

FAVICON = (Path(__file__).resolve().parent / "static" / "statuspage" / "favicon.ico").read_bytes()
MONTHS_PER_PAGE = 3
# Components a home page shows, each with its uptime bars. The page is read most when something
# is broken, so its render must stay short whatever the number of components: a page of 10,000
# took 50 s and 120 MB of HTML. Groups longer than a page go on over the next ones.
COMPONENTS_PER_PAGE = 100
MAX_HISTORY_PAGES = 40  # ten years: enough, and a bound on what a crawler can make us render


def _context(**extra) -> dict:
    return {
        "site_name": settings.SITE_NAME,
        "public_url": settings.PUBLIC_URL,
        "formula": uptime.FORMULA,
        "live_poll_seconds": settings.STATUSPAGE_LIVE_POLL_SECONDS,
        "live_stream": settings.STATUSPAGE_STREAM,
        **extra,
    }


@cached_public(params={"page": 1}, localized=True)
def home(request: HttpRequest):
    state = queries.page_state(with_uptime=False, past_days=queries.PAST_DAYS_ON_HOME)
    try:
        page = Paginator(state.components, COMPONENTS_PER_PAGE).page(request.GET.get("page", 1))
    except InvalidPage:
        raise Http404("No such page") from None
    shown = [c for c in page.object_list if c.show_uptime]
    figures_of = uptime.figures_for(shown, now=state.now)
    on_page = {component.pk for component in page.object_list}
    sections = []
    for section in state.sections:
        rows = []
        for component in section.components:
            if component.pk not in on_page:
                continue
            figures = figures_of.get(component.pk)
            rows.append(
                {
                    "component": component,
                    "figures": figures,
                    "percentage": uptime.percentage(figures) if figures else None,
                }
            )
        if rows:
            sections.append({"section": section, "rows": rows})
    past_by_day = []
    today = state.now.astimezone(UTC).date()
    for offset in range(queries.PAST_DAYS_ON_HOME):
        day = today - timedelta(days=offset)
        incidents = [i for i in state.past_incidents if i.started_at.astimezone(UTC).date() == day]
        past_by_day.append({"day": day, "incidents": incidents})
    return render(
        request,
        "statuspage/home.html",
        _context(
            state=state,
            sections=sections,
            page=page,
            past_by_day=past_by_day,
            now=state.now,
            problems=list(visitor_reports.PROBLEMS.items()),
        ),
    )


@cached_public()
def favicon(request: HttpRequest):
    """/favicon.ico, which browsers and crawlers ask for whatever the page's <link rel=icon> says."""
    return HttpResponse(FAVICON, content_type="image/x-icon")


@cached_public()
def robots(request: HttpRequest):
    return render(request, "statuspage/robots.txt", content_type="text/plain; charset=utf-8")


@cached_public(localized=True)
def incident_detail(request: HttpRequest, pk: int):
    incident = queries.with_details(Incident.objects.filter(pk=pk)).first()
    if incident is None:
        raise Http404("No such incident")
    return render(request, "statuspage/incident.html", _context(incident=incident))


@cached_public(localized=True)
def maintenance_detail(request: HttpRequest, pk: int):
    maintenance = queries.maintenance_with_details(Maintenance.objects.filter(pk=pk)).first()
    if maintenance is None:
        raise Http404("No such maintenance")
    return render(request, "statuspage/maintenance.html", _context(maintenance=maintenance))


def _month_start(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=UTC)


def _shift(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@cached_public(params={"page": 1}, localized=True)
def history(request: HttpRequest):
    raw = request.GET.get("page", "1")
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_HISTORY_PAGES:  # "²".isdigit()
        raise Http404("No such page")
    number = int(raw)
    this_month = timezone.now().astimezone(UTC).date().replace(day=1)
    newest = _shift(this_month, -(number - 1) * MONTHS_PER_PAGE)
    oldest = _shift(newest, -(MONTHS_PER_PAGE - 1))
    start = _month_start(oldest.year, oldest.month)
    end_month = _shift(newest, 1)
    end = _month_start(end_month.year, end_month.month)
    incidents = list(queries.with_details(Incident.objects.filter(started_at__gte=start, started_at__lt=end)))
    maintenance = list(
        Maintenance.objects.filter(scheduled_for__gte=start, scheduled_for__lt=end).order_by("-scheduled_for")
    )
    months = []
    for i in range(MONTHS_PER_PAGE):
        month = _shift(newest, -i)
        months.append(
            {
                "month": month,
                "incidents": [
                    x for x in incidents if x.started_at.astimezone(UTC).date().replace(day=1) == month
                ],
                "maintenance": [
                    m for m in maintenance if m.scheduled_for.astimezone(UTC).date().replace(day=1) == month
                ],
            }
        )
    older_exists = number < MAX_HISTORY_PAGES and (
        Incident.objects.filter(started_at__lt=start).exists()
        or Maintenance.objects.filter(scheduled_for__lt=start).exists()
    )
    return render(
        request,
        "statuspage/history.html",
        _context(
            months=months,
            page_number=number,
            newer_page=number - 1 if number > 1 else None,
            older_page=number + 1 if older_exists else None,
        ),
    )
