"""The dashboard's quick actions: small admin views that call the same services as the API and
report with messages, then go back to the dashboard."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from alerts.models import Alert
from alerts.services import AlertTransitionError, alert_acknowledge, alert_resolve
from statuspage import services as status_services
from statuspage.models import Incident, IncidentStatus, Maintenance

DASHBOARD_PERMISSIONS = (
    "alerts.view_alert",
    "statuspage.view_incident",
    "statuspage.view_maintenance",
    "oncall.view_schedule",
)


def _back(request: HttpRequest) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = ""
    return HttpResponseRedirect(target or reverse("admin:index"))


def _action(permission: str) -> Callable:
    def decorate(view: Callable) -> Callable:
        @staff_member_required
        @require_POST
        def wrapped(request: HttpRequest, pk: int):
            if not request.user.has_perm(permission):
                raise PermissionDenied
            view(request, pk)
            return _back(request)

        wrapped.__name__ = view.__name__
        return wrapped

    return decorate


def _alert_transition(request: HttpRequest, pk: int, service: Callable, verb: str) -> None:
    alert = get_object_or_404(Alert, pk=pk)
    try:
        service(alert=alert, user=request.user, note=request.POST.get("note", "")[:2000], via="console")
    except AlertTransitionError as exc:
        messages.warning(request, f"{alert.title}: {exc}")
        return
    messages.success(request, f"Alert “{alert.title}” {verb}.")


@_action("alerts.change_alert")
def alert_acknowledge_view(request: HttpRequest, pk: int) -> None:
    _alert_transition(request, pk, alert_acknowledge, "acknowledged")


@_action("alerts.change_alert")
def alert_resolve_view(request: HttpRequest, pk: int) -> None:
    _alert_transition(request, pk, alert_resolve, "resolved")


def _maintenance(request: HttpRequest, pk: int, service: Callable, verb: str) -> None:
    maintenance = get_object_or_404(Maintenance, pk=pk)
    try:
        service(maintenance=maintenance, message=request.POST.get("message", "")[:5000], author=request.user)
    except status_services.StatusPageError as exc:
        messages.warning(request, f"{maintenance.title}: {exc}")
        return
    messages.success(request, f"Maintenance “{maintenance.title}” {verb}.")


@_action("statuspage.change_maintenance")
def maintenance_start_view(request: HttpRequest, pk: int) -> None:
    _maintenance(request, pk, status_services.maintenance_start, "started")


@_action("statuspage.change_maintenance")
def maintenance_complete_view(request: HttpRequest, pk: int) -> None:
    _maintenance(request, pk, status_services.maintenance_complete, "completed")


@_action("statuspage.change_incident")
def incident_update_view(request: HttpRequest, pk: int) -> None:
    incident = get_object_or_404(Incident, pk=pk)
    status = request.POST.get("status", "")
    message = request.POST.get("message", "").strip()
    if status not in IncidentStatus.values or status == IncidentStatus.POSTMORTEM or not message:
        messages.error(request, "An update needs a status and a message.")
        return
    try:
        status_services.incident_update_create(
            incident=incident, status=status, message=message[:5000], author=request.user
        )
    except (status_services.StatusPageError, ValueError) as exc:
        messages.warning(request, f"{incident.title}: {exc}")
        return
    messages.success(request, f"Update posted to “{incident.title}”.")
