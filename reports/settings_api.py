"""Setting up service levels and reports through the API, as in the admin: availability
objectives, business-hours calendars, response targets per severity and scheduled reports.
Every role may read; writing needs the model permissions (Administrators). Each write runs the
model's own checks (a bad field is a 400 naming it)."""

from copy import copy

from django.core.exceptions import ValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from reports.models import BusinessCalendar, Report, ResponseTarget, ServiceLevelObjective
from reports.services import last_complete_period, report_send


class ModelChecked(serializers.ModelSerializer):
    """Runs the model's full_clean on the row as it would be saved, so the API refuses what the
    admin form refuses, with the same message under the same field."""

    def validate(self, attrs):
        row = copy(self.instance) if self.instance is not None else self.Meta.model()
        many = {f.name for f in self.Meta.model._meta.many_to_many}
        for name, value in attrs.items():
            if name not in many:
                setattr(row, name, value)
        try:
            row.full_clean(exclude=list(many), validate_unique=True)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs


class BusinessCalendarSerializer(ModelChecked):
    class Meta:
        model = BusinessCalendar
        fields = ["id", "name", "time_zone", "weekdays", "opens_at", "closes_at"]


class ResponseTargetSerializer(ModelChecked):
    class Meta:
        model = ResponseTarget
        fields = ["id", "severity", "acknowledge_minutes", "resolve_minutes", "calendar"]


class ReportScheduleSerializer(ModelChecked):
    class Meta:
        model = Report
        fields = ["id", "name", "frequency", "recipients", "components", "enabled", "created_at"]
        read_only_fields = ["created_at"]


class ObjectiveWriteSerializer(ModelChecked):
    """What staff set on an objective; a read shows its status (reports.api.ObjectiveSerializer)."""

    class Meta:
        model = ServiceLevelObjective
        fields = [
            "name",
            "component",
            "group",
            "target_percent",
            "window",
            "window_days",
            "burn_alerts",
            "severity",
        ]


class _Settings(viewsets.ModelViewSet):
    lookup_value_regex = "[0-9]+"


@extend_schema(tags=["reports"])
class BusinessCalendarViewSet(_Settings):
    """Working hours in a time zone, which response targets may count in."""

    queryset = BusinessCalendar.objects.order_by("name")
    serializer_class = BusinessCalendarSerializer


@extend_schema(tags=["reports"])
class ResponseTargetViewSet(_Settings):
    """Time to acknowledge and to resolve per severity, optionally in business hours."""

    queryset = ResponseTarget.objects.select_related("calendar").order_by("severity")
    serializer_class = ResponseTargetSerializer


@extend_schema(tags=["reports"])
class ReportScheduleViewSet(_Settings):
    """Reports mailed daily, weekly or monthly through the outbox."""

    queryset = Report.objects.prefetch_related("components").order_by("name")
    serializer_class = ReportScheduleSerializer

    @extend_schema(
        request=None,
        responses={
            202: inline_serializer(
                "ReportQueued",
                {
                    "period_start": serializers.DateField(),
                    "period_end": serializers.DateField(),
                    "sent": serializers.BooleanField(help_text="False: this period had been sent already."),
                },
            )
        },
    )
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        """Send the last complete period now (once: a period already sent is not sent again)."""
        report = self.get_object()
        period = last_complete_period(report.frequency, timezone.now())
        run = report_send(report=report, period=period)
        return Response(
            {"period_start": period.first, "period_end": period.last, "sent": run is not None},
            status=status.HTTP_202_ACCEPTED,
        )
