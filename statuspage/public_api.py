"""Public JSON: Statuspage's v2 read API and Vigil's /api/status paths, all from the page cache.

Plain Django views rather than DRF: each is a cached byte string, and a surge should not pay
for content negotiation on every hit.
"""

from django.core.paginator import EmptyPage, Paginator
from django.http import Http404, HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404

from statuspage import queries, uptime, v2
from statuspage.cache import cached_public
from statuspage.models import Component, Incident, Maintenance

LIST_LIMIT = 50
PUBLIC_PAGE_SIZE = 20


def _json(data: dict, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


def _error(message: str, status: int, **errors) -> JsonResponse:
    body: dict = {"detail": message}
    if errors:
        body["errors"] = {name: [text] for name, text in errors.items()}
    return _json(body, status=status)


@cached_public(cors=True)
def summary(request: HttpRequest):
    return _json(v2.summary(queries.page_state(with_uptime=False)))


@cached_public(cors=True)
def status(request: HttpRequest):
    state = queries.page_state(with_uptime=False)
    return _json({"page": v2.page(), "status": v2.status(state)})


@cached_public(cors=True)
def components(request: HttpRequest):
    state = queries.page_state(with_uptime=False)
    return _json({"page": v2.page(), "components": v2.components(state)})


@cached_public(cors=True)
def incidents(request: HttpRequest):
    rows = queries.with_details(Incident.objects.all())[:LIST_LIMIT]
    return _json({"page": v2.page(), "incidents": [v2.incident(i) for i in rows]})


@cached_public(cors=True)
def incidents_unresolved(request: HttpRequest):
    rows = queries.with_details(Incident.objects.unresolved())
    return _json({"page": v2.page(), "incidents": [v2.incident(i) for i in rows]})


def _maintenance_list(queryset) -> JsonResponse:
    rows = queries.maintenance_with_details(queryset)[:LIST_LIMIT]
    return _json({"page": v2.page(), "scheduled_maintenances": [v2.maintenance(m) for m in rows]})


@cached_public(cors=True)
def maintenance_all(request: HttpRequest):
    return _maintenance_list(Maintenance.objects.all())


@cached_public(cors=True)
def maintenance_upcoming(request: HttpRequest):
    return _maintenance_list(Maintenance.objects.upcoming().order_by("scheduled_for"))


@cached_public(cors=True)
def maintenance_active(request: HttpRequest):
    return _maintenance_list(Maintenance.objects.active().order_by("scheduled_for"))


# --- Vigil's own public paths (DESIGN.md) --------------------------------------------------


@cached_public(cors=True)
def status_overview(request: HttpRequest):
    """GET /api/status: the summary, in the Statuspage shape, so one client reads both."""
    return _json(v2.summary(queries.page_state(with_uptime=False)))


@cached_public(params={"page": 1}, cors=True)
def incident_list(request: HttpRequest):
    paginator = Paginator(queries.with_details(Incident.objects.all()), PUBLIC_PAGE_SIZE)
    try:
        number = int(request.GET.get("page", "1"))
        page = paginator.page(number)
    except ValueError:
        return _error("Invalid input.", 400, page="A page number is a positive integer.")
    except EmptyPage:
        return _error("Invalid page.", 404)
    return _json(
        {
            "count": paginator.count,
            "page": page.number,
            "pages": paginator.num_pages,
            "incidents": [v2.incident(i) for i in page.object_list],
        }
    )


@cached_public(cors=True)
def incident_detail(request: HttpRequest, pk: int):
    try:
        incident = queries.with_details(Incident.objects.filter(pk=pk)).get()
    except Incident.DoesNotExist:
        return _error("Not found.", 404)
    return _json({"incident": v2.incident(incident)})


@cached_public(params={"days": uptime.MAX_DAYS}, cors=True)
def component_uptime(request: HttpRequest, pk: int):
    raw = request.GET.get("days", str(uptime.MAX_DAYS))
    # isascii(): "²".isdigit() is true too, and int() refuses it.
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= uptime.MAX_DAYS:
        return _error("Invalid input.", 400, days=f"days must be a whole number from 1 to {uptime.MAX_DAYS}.")
    try:
        component = get_object_or_404(Component, pk=pk)
    except Http404:
        return _error("Not found.", 404)
    figures = uptime.figures_for([component], days=int(raw))[component.pk]
    return _json(
        {
            "component": {"id": str(component.pk), "name": component.name, "status": component.status},
            "days": len(figures),
            "uptime_percentage": uptime.percentage(figures),
            "formula": uptime.FORMULA,
            "daily": [f.as_dict() for f in figures],
        }
    )
