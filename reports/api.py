"""The reports API: uptime export and full report for a period, SLO status, response breaches."""

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_response
from reports.builder import report_build, report_components, uptime_rows
from reports.models import ResponseBreach, ServiceLevelObjective
from reports.params import QueryError, csv_filename, parse_query, uptime_csv
from reports.settings_api import ObjectiveWriteSerializer
from reports.slo import slo_status


class FormatIsOurs(DefaultContentNegotiation):
    """`format` is the export's own parameter (json or csv), answered with a 400 when unknown;
    DRF would otherwise read it as a renderer name and answer 404."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


PERIOD_PARAMETERS = [
    OpenApiParameter(
        "from", OpenApiTypes.DATE, description="First day (UTC), default: the 1st of this month."
    ),
    OpenApiParameter(
        "to", OpenApiTypes.DATE, description="Last day (UTC, inclusive, not after today), default: today."
    ),
    OpenApiParameter(
        "components", str, description="Component ids separated by commas; default: every component."
    ),
]


class UptimeRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    group = serializers.CharField(allow_null=True)
    uptime_percentage = serializers.FloatField(allow_null=True)
    observed_seconds = serializers.IntegerField()
    major_outage_seconds = serializers.IntegerField()
    partial_outage_seconds = serializers.IntegerField()
    degraded_performance_seconds = serializers.IntegerField()
    under_maintenance_seconds = serializers.IntegerField()
    downtime_minutes = serializers.FloatField(help_text="Weighted: major outage + 0.3 × partial outage.")
    uptime_minutes = serializers.FloatField()


class DailyDowntimeSerializer(serializers.Serializer):
    date = serializers.DateField()
    downtime_minutes = serializers.FloatField()


class UptimeReportSerializer(serializers.Serializer):
    # `from` is a Python keyword: declared below.
    to = serializers.DateField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    formula = serializers.CharField()
    components = UptimeRowSerializer(many=True)
    daily = DailyDowntimeSerializer(many=True)

    def get_fields(self):
        fields = super().get_fields()
        return {"from": serializers.DateField(), **fields}


class ReportSerializer(UptimeReportSerializer):
    generated_at = serializers.DateTimeField()
    incidents = serializers.DictField()
    maintenance = serializers.ListField(child=serializers.DictField())
    alerts_by_severity = serializers.DictField(child=serializers.IntegerField())
    response_times = serializers.DictField()
    response_breaches = serializers.DictField()
    slos = serializers.ListField(child=serializers.DictField())
    failed_deliveries = serializers.DictField()


def _bad(exc: QueryError):
    return error_response(
        "Invalid input.", status.HTTP_400_BAD_REQUEST, errors={k: [v] for k, v in exc.errors.items()}
    )


class UptimeReportView(APIView):
    """Uptime and downtime per component for a period of UTC days, with the status page's
    formula: the same figures as the uptime API for the same span, and as the admin export."""

    required_permissions = {"GET": ["statuspage.view_component"]}
    content_negotiation_class = FormatIsOurs

    @extend_schema(
        tags=["reports"],
        parameters=[
            *PERIOD_PARAMETERS,
            OpenApiParameter("format", str, enum=["json", "csv"], description="json (default) or csv."),
        ],
        responses={
            (200, "application/json"): UptimeReportSerializer,
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR, description="One row per component."
            ),
            400: OpenApiResponse(description="A parameter is bad; `errors` names it."),
        },
    )
    def get(self, request):
        try:
            period, fmt, ids = parse_query(request.query_params, timezone.now())
        except QueryError as exc:
            return _bad(exc)
        data = uptime_rows(period, report_components(ids))
        if fmt == "csv":
            response = HttpResponse(uptime_csv(data), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{csv_filename(data)}"'
            return response
        return Response(UptimeReportSerializer(data).data)


class ReportView(APIView):
    """The whole report for a period: uptime, incidents, maintenance, alerts by severity,
    MTTA/MTTR, response-target breaches, SLOs, failed deliveries (what the scheduled mail says)."""

    required_permissions = {"GET": ["statuspage.view_component", "alerts.view_alert"]}

    @extend_schema(
        tags=["reports"],
        parameters=PERIOD_PARAMETERS,
        responses={
            200: ReportSerializer,
            400: OpenApiResponse(description="A parameter is bad; `errors` names it."),
        },
    )
    def get(self, request):
        try:
            period, _fmt, ids = parse_query(request.query_params, timezone.now(), formats=("json",))
        except QueryError as exc:
            return _bad(exc)
        return Response(ReportSerializer(report_build(period, report_components(ids))).data)


class BurnRateSerializer(serializers.Serializer):
    burn_rate = serializers.FloatField(allow_null=True)
    short_window_burn_rate = serializers.FloatField(allow_null=True)
    threshold = serializers.FloatField()


class ObjectiveSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    component = serializers.IntegerField(allow_null=True)
    group = serializers.IntegerField(allow_null=True)
    target_percentage = serializers.FloatField()
    window = serializers.ChoiceField(choices=ServiceLevelObjective.Window.choices)
    window_days = serializers.IntegerField(allow_null=True)
    window_start = serializers.DateField()
    attained_percentage = serializers.FloatField(allow_null=True)
    met = serializers.BooleanField(allow_null=True)
    error_budget_seconds = serializers.FloatField()
    error_budget_spent_seconds = serializers.FloatField()
    error_budget_remaining_percentage = serializers.FloatField(allow_null=True)
    burn_rates = serializers.DictField(child=BurnRateSerializer())
    fast_burn = serializers.ListField(child=serializers.CharField())

    def to_representation(self, instance):
        return super().to_representation(slo_status(instance))


@extend_schema(tags=["reports"])
@extend_schema_view(
    create=extend_schema(request=ObjectiveWriteSerializer, responses={201: ObjectiveSerializer}),
    update=extend_schema(request=ObjectiveWriteSerializer, responses=ObjectiveSerializer),
    partial_update=extend_schema(request=ObjectiveWriteSerializer, responses=ObjectiveSerializer),
)
class ObjectiveViewSet(viewsets.ModelViewSet):
    """Availability objectives with their attainment, error budget left and burn rates now.
    Every role may read; Administrators set them up (component or group, target, window)."""

    lookup_value_regex = "[0-9]+"
    queryset = ServiceLevelObjective.objects.select_related("component", "group").order_by("name", "pk")
    serializer_class = ObjectiveSerializer
    filterset_fields = ["component", "group", "window"]

    def get_serializer_class(self):
        return ObjectiveSerializer if self.action in ("list", "retrieve") else ObjectiveWriteSerializer

    def _answer(self, serializer, code):
        return Response(ObjectiveSerializer(serializer.instance).data, status=code)

    def create(self, request, *args, **kwargs):
        serializer = ObjectiveWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return self._answer(serializer, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        serializer = ObjectiveWriteSerializer(
            self.get_object(), data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return self._answer(serializer, status.HTTP_200_OK)


class BreachSerializer(serializers.ModelSerializer):
    alert_title = serializers.CharField(source="alert.title", read_only=True)

    class Meta:
        model = ResponseBreach
        fields = [
            "id",
            "alert",
            "alert_title",
            "kind",
            "severity",
            "target_minutes",
            "business_hours",
            "due_at",
            "answered_at",
            "recorded_at",
        ]


@extend_schema(tags=["reports"])
class BreachViewSet(viewsets.ReadOnlyModelViewSet):
    """Response targets missed: an alert not acknowledged or resolved in time."""

    lookup_value_regex = "[0-9]+"
    queryset = ResponseBreach.objects.select_related("alert").order_by("-due_at", "-pk")
    serializer_class = BreachSerializer
    filterset_fields = ["kind", "severity", "alert"]
