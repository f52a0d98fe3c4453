"""Input and output serializers of the staff API. Inputs validate; services do the work."""

import base64
import binascii
import re
from datetime import timedelta

from django.core.files.base import ContentFile
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.datetimes import UTCDateTimeField
from core.outbound import validate_probe_url
from core.text import validate_line, validate_text
from statuspage.models import (
    OPEN_STATUS_CHOICES,
    STATUS_OF_IMPACT,
    Component,
    ComponentStatus,
    Impact,
    IncidentStatus,
    IncidentTemplate,
    MaintenanceSchedule,
)
from statuspage.schedules.rules import rule_problem
from statuspage.schedules.services import SCHEDULE_FIELDS


class ComponentSerializer(serializers.ModelSerializer):
    health_check_url = serializers.CharField(
        required=False, allow_blank=True, max_length=200, validators=[validate_probe_url]
    )

    class Meta:
        model = Component
        fields = [
            "id",
            "name",
            "description",
            "type",
            "group",
            "position",
            "status",
            "status_source",
            "status_changed_at",
            "health_check_url",
            "depends_on",
            "show_uptime",
            "created_at",
        ]
        read_only_fields = ["status", "status_source", "status_changed_at", "created_at"]


class ComponentStatusInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=ComponentStatus.choices)
    note = serializers.CharField(max_length=200, required=False, default="", validators=[validate_line])


COMPONENT_ID = re.compile(r"[0-9]{1,18}")
STATUS_MAP_SCHEMA = {
    "type": "object",
    "additionalProperties": {"type": "string", "enum": ComponentStatus.values},
}
ID_LIST_SCHEMA = {"type": "array", "items": {"type": "integer"}}


@extend_schema_field(
    {
        "oneOf": [STATUS_MAP_SCHEMA, ID_LIST_SCHEMA],
        "description": 'The affected components: {"<component id>": "<status>"}, or a list of component '
        "ids, each then at the status the incident's impact implies (none and minor: "
        "degraded_performance, major: partial_outage, critical: major_outage).",
    }
)
class AffectedComponentsField(serializers.Field):
    """{"<component id>": "<status>"}, as Statuspage's write API takes it, or [<component id>, ...],
    as the specification's examples send it. Returns {Component: status} for the first and
    [Component, ...] for the second (the serializer gives those their status from the impact)."""

    statuses = serializers.DictField(child=serializers.ChoiceField(choices=ComponentStatus.choices))

    def to_internal_value(self, data):
        if isinstance(data, list):
            components = self._components([self._id(value) for value in data])
            return list(components.values())
        if isinstance(data, dict):
            statuses = self.statuses.to_internal_value(data)
            components = self._components([self._id(key) for key in statuses])
            return {components[int(key)]: status for key, status in statuses.items()}
        raise serializers.ValidationError(
            'Expected {"<component id>": "<status>"} or a list of component ids, not '
            f"{type(data).__name__}."
        )

    @staticmethod
    def _id(value) -> int:
        # ASCII digits, at most 18 (below the 64-bit id range): str.isdigit() also takes "²",
        # which int() refuses, and a longer number would overflow the IN (...) lookup. A bool
        # is an int to Python, never an id.
        if isinstance(value, bool) or not COMPONENT_ID.fullmatch(str(value)):
            raise serializers.ValidationError(f"{value!r} is not a component id.")
        return int(value)

    @staticmethod
    def _components(ids: list[int]) -> dict[int, Component]:
        found = Component.objects.in_bulk(ids)
        missing = sorted(set(ids) - set(found))
        if missing:
            raise serializers.ValidationError(f"Unknown component ids: {', '.join(map(str, missing))}.")
        return {pk: found[pk] for pk in dict.fromkeys(ids)}


def _with_statuses(attrs: dict, impact: str) -> dict:
    """A plain list of components, given the status the incident's impact implies."""
    if isinstance(attrs.get("components"), list):
        status = STATUS_OF_IMPACT[impact or Impact.NONE]
        attrs["components"] = {component: status for component in attrs["components"]}
    return attrs


class IncidentCreateInput(serializers.Serializer):
    template = serializers.PrimaryKeyRelatedField(
        queryset=IncidentTemplate.objects.all(),
        required=False,
        help_text="An incident template's id: its title, message, status, impact, components and notify "
        "fill whatever this request leaves out.",
    )
    title = serializers.CharField(
        max_length=200, required=False, validators=[validate_line], help_text="Required without a template."
    )
    message = serializers.CharField(
        required=False, validators=[validate_text], help_text="Markdown. Required without a template."
    )
    status = serializers.ChoiceField(
        choices=[s for s in IncidentStatus.choices if s[0] != IncidentStatus.POSTMORTEM],
        required=False,
        help_text="Default: the template's, else investigating.",
    )
    impact_override = serializers.ChoiceField(choices=Impact.choices, required=False, allow_blank=True)
    components = AffectedComponentsField(required=False)
    notify = serializers.BooleanField(required=False, help_text="Default: the template's, else true.")
    started_at = UTCDateTimeField(required=False)

    def validate(self, attrs):
        """What is left out stays out: the service takes it from the template, or its default."""
        template = attrs.get("template")
        if template is None:
            missing = {
                name: ["This field is required."] for name in ("title", "message") if name not in attrs
            }
            if missing:
                raise serializers.ValidationError(missing)
        impact = attrs.get("impact_override", template.impact_override if template else "")
        return _with_statuses(attrs, impact)


class TemplateComponentsField(AffectedComponentsField):
    """Written as AffectedComponentsField takes it, read back as {"<component id>": "<status>"}."""

    def get_attribute(self, instance):
        return list(instance.affected.all())

    def to_representation(self, value):
        return {str(row.component_id): row.status for row in value}


class IncidentTemplateSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=OPEN_STATUS_CHOICES, required=False)
    components = TemplateComponentsField(required=False)

    class Meta:
        model = IncidentTemplate
        fields = [
            "id",
            "name",
            "title",
            "status",
            "message",
            "impact_override",
            "notify",
            "components",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs):
        impact = attrs.get("impact_override", getattr(self.instance, "impact_override", ""))
        return _with_statuses(attrs, impact)


class IncidentUpdateInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=IncidentStatus.choices)
    message = serializers.CharField(validators=[validate_text])
    impact_override = serializers.ChoiceField(choices=Impact.choices, required=False, allow_blank=True)
    components = AffectedComponentsField(required=False, default=dict)
    notify = serializers.BooleanField(required=False, default=True)
    display_at = UTCDateTimeField(required=False, default=None)

    def validate(self, attrs):
        """The impact of a plain list: the one given, else the incident's (context["incident"])."""
        incident = self.context.get("incident")
        return _with_statuses(
            attrs, attrs.get("impact_override") or getattr(incident, "effective_impact", "")
        )


class MaintenanceInput(serializers.Serializer):
    title = serializers.CharField(max_length=200, validators=[validate_line])
    description = serializers.CharField(
        required=False, default="", allow_blank=True, validators=[validate_text]
    )
    components = serializers.PrimaryKeyRelatedField(
        queryset=Component.objects.all(), many=True, required=False
    )
    scheduled_for = UTCDateTimeField()
    scheduled_until = UTCDateTimeField()
    auto_start = serializers.BooleanField(required=False, default=True)
    auto_complete = serializers.BooleanField(required=False, default=True)
    notify = serializers.BooleanField(required=False, default=True)
    # The window's rules (it ends after it starts, and not in the past unless this is set) are
    # statuspage.services.maintenance_window_check, which the view turns into field errors.
    record_history = serializers.BooleanField(required=False, default=False)


class MessageInput(serializers.Serializer):
    message = serializers.CharField(required=False, default="", allow_blank=True, validators=[validate_text])


class MaintenanceCancelInput(serializers.Serializer):
    note = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        validators=[validate_text],
        help_text="Shown as the cancellation's update and in its mail; a standard sentence if empty.",
    )
    notify = serializers.BooleanField(
        required=False,
        default=None,
        allow_null=True,
        help_text="Tell subscribers; by default they are told when the window was announced.",
    )


def validate_rule(value: str) -> None:
    problem = rule_problem(value)
    if problem:
        raise serializers.ValidationError(problem)


class MaintenanceScheduleSerializer(serializers.ModelSerializer):
    """A recurring schedule; writes go through statuspage.schedules.services (the view)."""

    rrule = serializers.CharField(
        max_length=500,
        validators=[validate_rule],
        help_text="One iCalendar RRULE, read in time_zone from start_time on starts_on, e.g. "
        "FREQ=MONTHLY;BYDAY=1SU. DAILY at the most; UNTIL in UTC (…Z).",
    )
    duration = serializers.DurationField(
        min_value=timedelta(minutes=1),
        max_value=timedelta(days=7),
        help_text='How long each window lasts: "HH:MM:SS" or ISO 8601 ("PT2H").',
    )
    components = serializers.PrimaryKeyRelatedField(
        queryset=Component.objects.all(), many=True, required=False
    )
    next_occurrences = serializers.SerializerMethodField(
        help_text="The next five starts (UTC), also beyond the horizon."
    )

    class Meta:
        model = MaintenanceSchedule
        fields = ["id", *SCHEDULE_FIELDS, "next_occurrences", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    @extend_schema_field({"type": "array", "items": {"type": "string", "format": "date-time"}})
    def get_next_occurrences(self, schedule: MaintenanceSchedule) -> list[str]:
        return [start.isoformat().replace("+00:00", "Z") for start in schedule.next_starts(5)]


class FooterLinkSerializer(serializers.Serializer):
    label = serializers.CharField()
    url = serializers.CharField()


@extend_schema_field({"type": "string", "format": "byte", "nullable": True})
class PictureField(serializers.Field):
    """A picture as base64 in JSON (or a file part of a multipart form); null or "" removes it."""

    def to_internal_value(self, data):
        if hasattr(data, "read"):
            return data
        if not isinstance(data, str):
            raise serializers.ValidationError("Give the picture as a base64 string, or null to remove it.")
        try:
            content = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError("This is not valid base64.") from None
        return ContentFile(content, name="upload")


class BrandingInput(serializers.Serializer):
    """Any subset of the branding (the rest keep their values). `logo` and `favicon` are base64
    (multipart file parts work too); null or "" goes back to Vigil's own picture. The rules are
    statuspage/branding_checks.py."""

    page_title = serializers.CharField(required=False, allow_blank=True)
    accent_colour = serializers.CharField(required=False, allow_blank=True, help_text="#rrggbb, or empty")
    custom_css = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    footer_links = FooterLinkSerializer(many=True, required=False)
    about = serializers.CharField(required=False, allow_blank=True)
    logo = PictureField(required=False, allow_null=True, help_text="PNG or JPEG, base64")
    favicon = PictureField(required=False, allow_null=True, help_text="PNG or ICO, base64")

    def to_internal_value(self, data):
        if hasattr(data, "getlist"):  # a multipart form: one value per field
            data = {key: data.get(key) for key in data}
        if isinstance(data, dict):
            data = {
                key: None if key in ("logo", "favicon") and value == "" else value
                for key, value in data.items()
            }
        return super().to_internal_value(data)


class BrandingSerializer(serializers.Serializer):
    page_title = serializers.CharField()
    title = serializers.CharField(help_text="The title shown: page_title, or SITE_NAME + ' Status'")
    accent_colour = serializers.CharField()
    custom_css = serializers.CharField()
    footer_links = FooterLinkSerializer(many=True)
    about = serializers.CharField()
    logo_url = serializers.CharField(help_text="Path of the logo under PUBLIC_URL, or empty")
    favicon_url = serializers.CharField(help_text="Path of the favicon under PUBLIC_URL, or empty")
    stylesheet_url = serializers.CharField(help_text="Path of the branding stylesheet, or empty")
    updated_at = serializers.DateTimeField(allow_null=True)
