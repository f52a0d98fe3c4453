"""Staff API: probe settings (CRUD + hold), system status and one service's health history."""

from django.http import Http404
from rest_framework import viewsets
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response

from healthchecks.models import Probe
from healthchecks.probes import history
from healthchecks.probes.services import ProbeError, probe_hold
from healthchecks.serializers import HistoryQuerySerializer, HoldSerializer, ProbeSerializer


class ProbeViewSet(viewsets.ModelViewSet):
    lookup_value_regex = "[0-9]+"  # anything else is not a route (404), not a failed cast
    queryset = Probe.objects.select_related("component").order_by("pk")
    serializer_class = ProbeSerializer
    filterset_fields = ["kind", "enabled", "is_down", "component"]

    @action(detail=True, methods=["post"])
    def hold(self, request, pk=None):
        """Set the component's status by hand; probes leave it alone until `until` (or for good)."""
        probe = self.get_object()
        data = HoldSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            probe_hold(probe=probe, actor=request.user, **data.validated_data)
        except ProbeError as exc:
            raise ValidationError({"until": [str(exc)]}) from exc
        probe.component.refresh_from_db()
        return Response(ProbeSerializer(probe).data)


@api_view(["GET"])
@permission_classes([IsAdminUser])
def system_status(request):
    return Response(history.system_status())


@api_view(["GET"])
@permission_classes([IsAdminUser])
def service_health(request, service: str):
    query = HistoryQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    component = history.component_by_service(service)
    if component is None:
        raise Http404(f"No service {service!r}.")
    return Response(history.service_history(component, **query.validated_data))
