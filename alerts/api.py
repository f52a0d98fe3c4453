import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from alerts import alertmanager
from alerts.models import Alert, AlertRule, Silence
from alerts.response_times import WINDOWS, response_times
from alerts.serializers import (
    AcknowledgeSerializer,
    AlertDetailSerializer,
    AlertRuleSerializer,
    AlertSerializer,
    AlertTimelineSerializer,
    DeclaredIncidentSerializer,
    DeclareIncidentSerializer,
    ManualAlertSerializer,
    ResolveSerializer,
    ResponseTimesSerializer,
    SilenceSerializer,
)
from alerts.services import (
    AlertTransitionError,
    alert_acknowledge,
    alert_declare_incident,
    alert_raise,
    alert_reopen,
    alert_resolve,
    silence_create,
    silence_expire,
)
from alerts.timeline import DEFAULT_LIMIT, MAX_LIMIT, alert_timeline
from core.api import error_response
from core.filters import UTCDateTimeFilter
from statuspage import queries, v2
from statuspage.models import Incident
from statuspage.services import StatusPageError


class AlertFilter(django_filters.FilterSet):
    since = UTCDateTimeFilter(field_name="fired_at", lookup_expr="gte")
    until = UTCDateTimeFilter(field_name="fired_at", lookup_expr="lt")
    open = django_filters.BooleanFilter(method="filter_open")

    class Meta:
        model = Alert
        fields = ["status", "severity", "alert_type", "rule", "component", "fingerprint"]

    def filter_open(self, queryset, name, value):
        return queryset.open() if value else queryset.filter(status=Alert.Status.RESOLVED)


# Ids are numbers: anything else is not a route (404), never a query that fails on the cast.
ID = "[0-9]+"


class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_value_regex = ID
    queryset = Alert.objects.select_related("acknowledged_by", "resolved_by").order_by("-fired_at", "-pk")
    filterset_class = AlertFilter

    def get_serializer_class(self):
        return AlertDetailSerializer if self.action == "retrieve" else AlertSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("events__actor")
        return queryset

    def create(self, request):
        """A manual alert: deduplicated by its fingerprint like any other."""
        data = ManualAlertSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        raised = alert_raise(
            fingerprint="manual:" + values.get("fingerprint", values["title"])[:180],
            title=values["title"],
            severity=values["severity"],
            alert_type=Alert.Type.MANUAL,
            message=values["message"],
            labels=values["labels"],
            user=request.user,
            actor_type="user",
        )
        code = status.HTTP_201_CREATED if raised.created else status.HTTP_200_OK
        return Response(AlertSerializer(raised.alert).data, status=code)

    def _transition(self, request, serializer_class, service, **extra):
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            alert = service(
                alert=self.get_object(), user=request.user, via="api", **data.validated_data, **extra
            )
        except AlertTransitionError as exc:
            return error_response(str(exc), status.HTTP_409_CONFLICT)
        return Response(AlertSerializer(alert).data)

    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self._transition(request, AcknowledgeSerializer, alert_acknowledge)

    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return self._transition(request, ResolveSerializer, alert_resolve)

    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._transition(request, AcknowledgeSerializer, alert_reopen)

    @extend_schema(
        request=DeclareIncidentSerializer,
        responses={
            201: DeclaredIncidentSerializer,
            200: DeclaredIncidentSerializer,
            400: OpenApiResponse(description="Bad input (error shape)."),
            403: OpenApiResponse(description="Needs statuspage.add_incident as well."),
            409: OpenApiResponse(description="The alert is resolved (error shape)."),
        },
    )
    @action(detail=True, methods=["post"], url_path="declare-incident")
    def declare_incident(self, request, pk=None):
        """Open a public incident for this open alert, linked to it (201). While that incident
        is open, the same call gives it back (200) instead of opening a second one."""
        if not request.user.has_perm("statuspage.add_incident"):
            return error_response(
                "Declaring an incident needs statuspage.add_incident.", status.HTTP_403_FORBIDDEN
            )
        data = DeclareIncidentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            declared = alert_declare_incident(
                alert=self.get_object(), user=request.user, via="api", **data.validated_data
            )
        except AlertTransitionError as exc:
            return error_response(str(exc), status.HTTP_409_CONFLICT)
        except (StatusPageError, ValueError) as exc:
            return error_response(
                "Invalid input.", status.HTTP_400_BAD_REQUEST, errors={"non_field_errors": [str(exc)]}
            )
        incident = queries.with_details(Incident.objects.filter(pk=declared.incident.pk)).get()
        body = {
            "created": declared.created,
            "incident": v2.incident(incident),
            "alert": AlertSerializer(Alert.objects.get(pk=pk)).data,
        }
        return Response(body, status=status.HTTP_201_CREATED if declared.created else status.HTTP_200_OK)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "limit",
                int,
                required=False,
                description=f"Entries to give, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}).",
            )
        ],
        responses={
            200: AlertTimelineSerializer,
            400: OpenApiResponse(description="`limit` is not a whole number from 1 to the maximum."),
            404: OpenApiResponse(description="No such alert."),
        },
    )
    @action(detail=True, methods=["get"])
    def timeline(self, request, pk=None):
        """The alert's history in time order: its events (raised, acknowledged with who and
        through what, escalated, silenced, resolved) and every delivery of every message sent
        about it, with each attempt."""
        limit = _whole_number(request.query_params.get("limit"), DEFAULT_LIMIT, 1, MAX_LIMIT)
        if limit is None:
            return error_response(
                "Invalid input.",
                status.HTTP_400_BAD_REQUEST,
                errors={"limit": [f"A whole number from 1 to {MAX_LIMIT}."]},
            )
        timeline = alert_timeline(self.get_object(), limit=limit)
        entries = [
            {
                "at": entry.at,
                "type": entry.type,
                "event": entry.data if entry.type == "event" else None,
                "delivery": entry.data if entry.type == "delivery" else None,
            }
            for entry in timeline.entries
        ]
        return Response(
            AlertTimelineSerializer(
                {"alert": timeline.alert, "entries": entries, "truncated": timeline.truncated}
            ).data
        )

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "days",
                int,
                required=False,
                enum=list(WINDOWS),
                description="The window: 7, 30 or 90 (default 7).",
            )
        ],
        responses={
            200: ResponseTimesSerializer,
            400: OpenApiResponse(description="`days` is not 7, 30 or 90."),
        },
    )
    @action(
        detail=False, methods=["get"], url_path="response-times", filter_backends=[], pagination_class=None
    )
    def response_times(self, request):
        """MTTA and MTTR per severity for the alerts fired in the last `days` days."""
        raw = request.query_params.get("days", str(WINDOWS[0]))
        if raw not in {str(days) for days in WINDOWS}:
            return error_response(
                "Invalid input.",
                status.HTTP_400_BAD_REQUEST,
                errors={"days": [f"One of {', '.join(map(str, WINDOWS))}."]},
            )
        return Response(ResponseTimesSerializer(response_times(int(raw))).data)


def _whole_number(raw: str | None, default: int, low: int, high: int) -> int | None:
    if raw is None:
        return default
    # ASCII digits only and short: int() refuses other Unicode digits ("²") and very long strings.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not low <= int(raw) <= high:
        return None
    return int(raw)


class AlertRuleViewSet(viewsets.ModelViewSet):
    lookup_value_regex = ID
    queryset = AlertRule.objects.prefetch_related("channels", "escalation_policy__steps__channels").order_by(
        "name"
    )
    serializer_class = AlertRuleSerializer
    filterset_fields = ["enabled", "severity", "state", "metric_name", "category"]


class SilenceViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    lookup_value_regex = ID
    queryset = Silence.objects.select_related("author").order_by("-starts_at", "-pk")
    serializer_class = SilenceSerializer

    def perform_create(self, serializer):
        values = serializer.validated_data
        try:
            serializer.instance = silence_create(
                matchers=[dict(matcher) for matcher in values["matchers"]],
                starts_at=values.get("starts_at"),
                ends_at=values["ends_at"],
                author=self.request.user,
                comment=values.get("comment", ""),
            )
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None

    def perform_destroy(self, silence):
        silence_expire(silence=silence)


@api_view(["POST"])  # permission: the REST_FRAMEWORK default (staff + alerts add/change)
@transaction.atomic
def alertmanager_webhook(request):
    """Prometheus Alertmanager's webhook (payload version 4): firing and resolved alerts,
    deduplicated by Alertmanager's fingerprint."""
    try:
        payload = alertmanager.parse(request.data)
    except alertmanager.PayloadError as exc:
        return error_response(str(exc), status.HTTP_400_BAD_REQUEST, errors=exc.errors)
    counts = alertmanager.apply(payload, user=request.user)
    return Response(counts, status=status.HTTP_200_OK)
