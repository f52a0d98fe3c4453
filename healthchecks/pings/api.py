"""Staff API of heartbeat checks: settings (through the services), state, pings, pause/resume,
and a ping through the API for jobs that hold an API key rather than the ping URL."""

from django.conf import settings
from django.core.exceptions import ValidationError as ModelValidationError
from django.core.validators import RegexValidator
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from healthchecks.pings.models import Check, CheckProject, Ping
from healthchecks.pings.services import (
    CHECK_SETTINGS,
    MAX_BODY_CHARACTERS,
    check_create,
    check_pause,
    check_ping,
    check_resume,
    check_update,
)


def ping_url(check: Check) -> str:
    """The address the job calls, under PUBLIC_URL (jobs reach Vigil where visitors do)."""
    if check.project_id and check.slug:
        path = reverse("pings:ping-slug", args=[check.project.ping_key, check.slug])
    else:
        path = reverse("pings:ping", args=[check.ping_key])
    return settings.PUBLIC_URL.rstrip("/") + path


class CheckProjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = CheckProject
        fields = ["id", "name", "ping_key"]
        read_only_fields = ["ping_key"]


@extend_schema_field({"type": "string", "maxLength": 100, "pattern": "^[-a-zA-Z0-9_]*$"})
class SlugOrBlankField(serializers.CharField):
    """A slug, or blank for a check outside any project (a slug field's pattern would refuse '')."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(
            RegexValidator(r"^[-a-zA-Z0-9_]*$", "Letters, digits, hyphens and underscores only.")
        )

    def run_validation(self, data=serializers.empty):
        # Blank is allowed here, not through allow_blank: that would document the field twice.
        return "" if data == "" else super().run_validation(data)


class CheckSerializer(serializers.ModelSerializer):
    ping_url = serializers.SerializerMethodField()
    slug = SlugOrBlankField(max_length=100, required=False)

    class Meta:
        model = Check
        fields = [
            "id",
            *CHECK_SETTINGS,
            "ping_key",
            "ping_url",
            "builtin_job",
            *Check.STATE_FIELDS,
            "created_at",
        ]
        read_only_fields = ["ping_key", "builtin_job", *Check.STATE_FIELDS, "created_at"]
        # The unique (project, slug) is checked by the model's validation in the services.
        validators = []

    def get_ping_url(self, check) -> str:
        return ping_url(check)

    def _saved(self, save):
        try:
            return save()
        except ModelValidationError as exc:
            raise ValidationError(exc.message_dict) from None

    def create(self, validated_data):
        return self._saved(lambda: check_create(**validated_data))

    def update(self, instance, validated_data):
        return self._saved(lambda: check_update(check=instance, **validated_data))


class PingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Ping
        fields = [
            "id",
            "kind",
            "exit_status",
            "at",
            "duration",
            "method",
            "remote_addr",
            "user_agent",
            "body",
        ]
        read_only_fields = fields


class ApiPingSerializer(serializers.Serializer):
    """A job's report sent through the API with a key (scope checks:ping) instead of the ping URL."""

    kind = serializers.ChoiceField(choices=Ping.Kind.choices, default=Ping.Kind.SUCCESS)
    exit_status = serializers.IntegerField(
        min_value=0, max_value=255, required=False, help_text="0 is a success, anything else a failure."
    )
    body = serializers.CharField(required=False, allow_blank=True, max_length=MAX_BODY_CHARACTERS, default="")

    def validate(self, data):
        if "exit_status" in data:
            if data["kind"] not in (Ping.Kind.SUCCESS, Ping.Kind.FAIL):
                raise serializers.ValidationError(
                    {"exit_status": "An exit status goes with a success or a failure."}
                )
            data["kind"] = Ping.Kind.SUCCESS if data["exit_status"] == 0 else Ping.Kind.FAIL
        return data


class CheckProjectViewSet(viewsets.ModelViewSet):
    lookup_value_regex = "[0-9]+"
    queryset = CheckProject.objects.order_by("name")
    serializer_class = CheckProjectSerializer


class CheckViewSet(viewsets.ModelViewSet):
    lookup_value_regex = "[0-9]+"
    queryset = Check.objects.select_related("project", "component").order_by("name", "pk")
    serializer_class = CheckSerializer
    filterset_fields = ["state", "kind", "component", "project"]

    @extend_schema(request=None, responses=CheckSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        """Stop watching the check until its next ping or a resume."""
        check = check_pause(check=self.get_object())
        return Response(CheckSerializer(check, context={"request": request}).data)

    @extend_schema(request=None, responses=CheckSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        check = check_resume(check=self.get_object())
        return Response(CheckSerializer(check, context={"request": request}).data)

    @extend_schema(request=ApiPingSerializer, responses={201: PingSerializer})
    @action(detail=True, methods=["post"])
    def ping(self, request, pk=None):
        """Report a run of the check's job, as the ping URL does (same states and durations)."""
        given = ApiPingSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        ping = check_ping(
            check=self.get_object(),
            kind=data["kind"],
            exit_status=data.get("exit_status"),
            body=data["body"],
            method="API",
            remote_addr=request.META.get("REMOTE_ADDR", ""),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        return Response(PingSerializer(ping).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=PingSerializer(many=True))
    @action(detail=True, methods=["get"])
    def pings(self, request, pk=None):
        """The check's pings, newest first (kept LOGS_RETENTION_DAYS)."""
        pings = self.get_object().pings.order_by("-at", "-id")
        page = self.paginate_queryset(pings)
        return self.get_paginated_response(PingSerializer(page, many=True).data)
