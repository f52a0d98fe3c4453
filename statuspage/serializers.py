"""Input and output serializers of the staff API. Inputs validate; services do the work."""

import re

from rest_framework import serializers

from core.datetimes import UTCDateTimeField
from core.outbound import validate_probe_url
from core.text import validate_line, validate_text
from statuspage.models import Component, ComponentStatus, Impact, IncidentStatus


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


class ComponentStatusesField(serializers.DictField):
    """{"<component id>": "<status>"}, as Statuspage's write API takes it; returns {Component: status}."""

    child = serializers.ChoiceField(choices=ComponentStatus.choices)

    def to_internal_value(self, data):
        statuses = super().to_internal_value(data)
        ids = {}
        for key in statuses:
            # ASCII digits, at most 18 (below the 64-bit id range): str.isdigit() also takes "²",
            # which int() refuses, and a longer number would overflow the IN (...) lookup.
            if not re.fullmatch(r"[0-9]{1,18}", str(key)):
                raise serializers.ValidationError(f"{key!r} is not a component id.")
            ids[int(key)] = statuses[key]
        found = Component.objects.in_bulk(list(ids))
        missing = sorted(set(ids) - set(found))
        if missing:
            raise serializers.ValidationError(f"Unknown component ids: {', '.join(map(str, missing))}.")
        return {found[pk]: status for pk, status in ids.items()}


class IncidentCreateInput(serializers.Serializer):
    title = serializers.CharField(max_length=200, validators=[validate_line])
    message = serializers.CharField(validators=[validate_text])
    status = serializers.ChoiceField(
        choices=[s for s in IncidentStatus.choices if s[0] != IncidentStatus.POSTMORTEM],
        default=IncidentStatus.INVESTIGATING,
    )
    impact_override = serializers.ChoiceField(choices=Impact.choices, required=False, default="")
    components = ComponentStatusesField(required=False, default=dict)
    notify = serializers.BooleanField(required=False, default=True)
    started_at = UTCDateTimeField(required=False, default=None)


class IncidentUpdateInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=IncidentStatus.choices)
    message = serializers.CharField(validators=[validate_text])
    impact_override = serializers.ChoiceField(choices=Impact.choices, required=False, allow_blank=True)
    components = ComponentStatusesField(required=False, default=dict)
    notify = serializers.BooleanField(required=False, default=True)
    display_at = UTCDateTimeField(required=False, default=None)


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
