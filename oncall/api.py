"""The on-call API: who is on call now and next, the schedules (CRUD), a person's calendar URL."""

from django import forms
from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_response
from core.filters import UTCDateTimeField
from oncall.models import Schedule
from oncall.queries import on_call_board
from oncall.resolver import OUT_OF_RANGE, in_range
from oncall.serializers import ScheduleSerializer
from oncall.services import (
    ScheduleError,
    calendar_feed_issue,
    calendar_feed_revoke,
    schedule_delete,
    schedule_save,
)
from oncall.views import calendar_urls

# Ids are numbers: anything else is not a route (404), never a query that fails on the cast.
ID = "[0-9]+"
CAN_READ = "oncall.view_schedule"


class ScheduleViewSet(viewsets.ModelViewSet):
    lookup_value_regex = ID
    queryset = Schedule.objects.prefetch_related("layers__memberships", "overrides").order_by("name")
    serializer_class = ScheduleSerializer

    def perform_create(self, serializer):
        self._save(serializer, Schedule())

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    def _save(self, serializer, schedule: Schedule) -> None:
        specs = serializer.specs()
        for name, value in specs["values"].items():
            setattr(schedule, name, value)
        try:
            saved = schedule_save(schedule=schedule, layers=specs["layers"], overrides=specs["overrides"])
        except ScheduleError as exc:
            raise serializers.ValidationError(exc.errors) from None
        # Read back with the layers and overrides as stored.
        serializer.instance = self.get_queryset().get(pk=saved.pk)

    def perform_destroy(self, schedule):
        schedule_delete(schedule=schedule)


PERSON = inline_serializer(
    "OnCallPerson", {"id": serializers.IntegerField(), "username": serializers.CharField()}
)
SHIFT = inline_serializer(
    "OnCallShift",
    {
        "user": PERSON,
        "starts_at": serializers.DateTimeField(),
        "ends_at": serializers.DateTimeField(),
    },
)


class OnCallView(APIView):
    """Who is on call at an instant (default: now) and who comes next, for every schedule."""

    required_permissions = {"GET": [CAN_READ]}

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "at",
                str,
                description="ISO 8601 date-time (without an offset: UTC); default: now.",
                required=False,
            )
        ],
        responses={
            200: OpenApiResponse(
                response=inline_serializer(
                    "OnCall",
                    {
                        "at": serializers.DateTimeField(),
                        "schedules": inline_serializer(
                            "OnCallSchedule",
                            {
                                "id": serializers.IntegerField(),
                                "name": serializers.CharField(),
                                "time_zone": serializers.CharField(),
                                "now": inline_serializer(
                                    "OnCallNow",
                                    {
                                        "user": PERSON,
                                        "until": serializers.DateTimeField(),
                                    },
                                ),
                                "next": SHIFT,
                                "next_gap": inline_serializer(
                                    "OnCallGap",
                                    {
                                        "starts_at": serializers.DateTimeField(),
                                        "ends_at": serializers.DateTimeField(),
                                    },
                                    allow_null=True,
                                ),
                            },
                            many=True,
                        ),
                    },
                ),
                description='"user" is null when nobody is on call (a gap); "next" is null when '
                'nobody is due within 35 days; "next_gap" is the next stretch with nobody on call '
                "(the current one during a gap), null when there is none within 35 days.",
            ),
            400: OpenApiResponse(description="`at` is not a date-time."),
        },
    )
    def get(self, request):
        try:
            at = UTCDateTimeField(required=False).clean(request.query_params.get("at")) or timezone.now()
        except forms.ValidationError as exc:
            return error_response("Invalid input.", status.HTTP_400_BAD_REQUEST, errors={"at": exc.messages})
        if not in_range(at):
            return error_response(
                "Invalid input.", status.HTTP_400_BAD_REQUEST, errors={"at": [OUT_OF_RANGE]}
            )
        return Response({"at": at, "schedules": on_call_board(Schedule.objects.order_by("name"), at)})


class CalendarFeedView(APIView):
    """The caller's own secret iCalendar URLs: POST issues new ones (the old stop working), DELETE
    revokes them. The token is shown only here, once. Administrators; the console issues and
    revokes anyone's (Calendar feeds)."""

    # The caller's own feed only. A write, so it needs the write permissions (Administrators):
    # a Viewer never writes through the API; an administrator issues theirs in the console.
    required_permissions = {
        "POST": ["oncall.add_calendarfeed", "oncall.change_calendarfeed"],
        "DELETE": ["oncall.delete_calendarfeed"],
    }

    @extend_schema(
        request=None,
        responses={
            201: inline_serializer(
                "CalendarFeed",
                {"url": serializers.URLField(), "schedule_url_template": serializers.CharField()},
            )
        },
    )
    @transaction.atomic
    def post(self, request):
        token = calendar_feed_issue(user=request.user)
        return Response(calendar_urls(request, token), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None, responses={204: None, 404: OpenApiResponse(description="No feed to revoke.")}
    )
    def delete(self, request):
        if not calendar_feed_revoke(user=request.user):
            return Response({"detail": "You have no calendar feed."}, status=status.HTTP_404_NOT_FOUND)
        return Response(status=status.HTTP_204_NO_CONTENT)
