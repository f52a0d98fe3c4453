from django.db import transaction
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from healthchecks.models import Probe, ProbeLocation, validate_probe_url
from healthchecks.probes.services import ProbeError, probe_configure, probe_hold, probe_hold_end_check
from statuspage.models import ComponentStatus

KIND_FIELDS = [
    "host",
    "port",
    "tls_handshake",
    "verify_tls",
    "record_type",
    "expected_values",
    "nameserver",
    "nameserver_port",
]
SETTINGS_FIELDS = [
    "kind",
    *KIND_FIELDS,
    "method",
    "request_headers",
    "request_body",
    "basic_auth_user",
    "basic_auth_password",
    "expected_status_codes",
    "keyword",
    "json_path",
    "json_value",
    "timeout_seconds",
    "degraded_latency_ms",
    "interval_seconds",
    "failures_before_down",
    "successes_before_up",
    "enabled",
]
# Not a setting: written only by probe_hold (the forms check it with probe_hold_end_check).
HOLD_FIELD = "manual_hold_until"
STATE_FIELDS = [*Probe.STATE_FIELDS, "next_due_at"]


@extend_schema_field({"type": "string", "format": "uri", "pattern": "^https?://", "maxLength": 200})
class ProbeURLField(serializers.CharField):
    """An http(s) URL (validate_probe_url); the schema says so, a plain CharField would not."""


class ProbeSerializer(serializers.ModelSerializer):
    # Written to the component's health_check_url (the probe has no URL of its own).
    url = ProbeURLField(required=False, write_only=True, max_length=200, validators=[validate_probe_url])
    component_name = serializers.CharField(source="component.name", read_only=True)
    component_status = serializers.CharField(source="component.status", read_only=True)
    # Blank until the probe's first round: the schema must say so, or '' breaks the enum.
    verdict = serializers.ChoiceField(choices=ComponentStatus.choices, allow_blank=True, read_only=True)
    expected_status_codes = serializers.ListField(
        child=serializers.IntegerField(min_value=100, max_value=599),
        allow_empty=False,
        min_length=1,  # the same rule, stated so the schema shows it
        required=False,
    )
    expected_values = serializers.ListField(
        child=serializers.CharField(max_length=255), max_length=20, required=False
    )
    locations = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=ProbeLocation.objects.all(),
        help_text="Where agents run this probe; empty: the server runs it itself.",
    )
    secrets_set = serializers.SerializerMethodField(
        help_text="Which of the write-only credentials (request_headers, basic_auth_password) are set."
    )

    class Meta:
        model = Probe
        fields = [
            "id",
            "component",
            "component_name",
            "component_status",
            "url",
            *SETTINGS_FIELDS,
            "locations",
            "secrets_set",
            HOLD_FIELD,
            *STATE_FIELDS,
        ]
        read_only_fields = STATE_FIELDS
        # A read says which are set, never what they are; a write that leaves one out keeps it.
        extra_kwargs = {name: {"write_only": True} for name in Probe.SECRET_FIELDS}
        # One HTTP probe per component is checked in validate(), with a message that says so.
        validators = []

    def get_fields(self):
        fields = super().get_fields()
        if isinstance(self.instance, Probe):
            fields["component"].read_only = True  # a probe stays with its component
            fields["kind"].read_only = True  # and its kind: another kind is another probe
        return fields

    def get_secrets_set(self, probe: Probe) -> list[str]:
        return [name for name in Probe.SECRET_FIELDS if getattr(probe, name)]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["url"] = instance.component.health_check_url
        return data

    def validate_manual_hold_until(self, value):
        # A PUT echoes the current value back, perhaps a hold that has just ended: that is no change.
        if value != getattr(self.instance, HOLD_FIELD, None):
            try:
                probe_hold_end_check(until=value)
            except ProbeError as exc:
                raise serializers.ValidationError(str(exc)) from exc
        return value

    def validate(self, attrs):
        component = attrs.get("component") or getattr(self.instance, "component", None)
        json_path = attrs.get("json_path", getattr(self.instance, "json_path", ""))
        json_value = attrs.get("json_value", getattr(self.instance, "json_value", ""))
        if json_value and not json_path:
            raise serializers.ValidationError(
                {"json_value": ["Set json_path too: the value is compared at that path."]}
            )
        kind = attrs.get("kind", getattr(self.instance, "kind", Probe.Kind.HTTP))
        if kind == Probe.Kind.HTTP:
            if component is not None and not (attrs.get("url") or component.health_check_url):
                raise serializers.ValidationError(
                    {"url": ["The component has no health_check_url; give one."]}
                )
            if (
                self.instance is None
                and component is not None
                and component.probes.filter(kind=kind).exists()
            ):
                raise serializers.ValidationError(
                    {
                        "component": [
                            "The component has an HTTP probe already (one checks its URL); change that one."
                        ]
                    }
                )
        else:
            if not attrs.get("host", getattr(self.instance, "host", "")):
                raise serializers.ValidationError({"host": [f"A {kind} probe needs a host."]})
            if kind == Probe.Kind.TCP and not attrs.get("port", getattr(self.instance, "port", None)):
                raise serializers.ValidationError({"port": ["A tcp probe needs a port."]})
        return attrs

    def _hold(self, probe: Probe, until) -> Probe:
        request = self.context.get("request")
        return probe_hold(probe=probe, until=until, actor=getattr(request, "user", None))

    def create(self, validated_data):
        component = validated_data.pop("component")
        url = validated_data.pop("url", None)
        until = validated_data.pop(HOLD_FIELD, None)
        with transaction.atomic():
            probe = probe_configure(component=component, url=url, **validated_data)
            return self._hold(probe, until) if until is not None else probe

    def update(self, instance, validated_data):
        url = validated_data.pop("url", None)
        locations = validated_data.pop("locations", None)
        held = HOLD_FIELD in validated_data and validated_data[HOLD_FIELD] != instance.manual_hold_until
        until = validated_data.pop(HOLD_FIELD, None)
        fields = {name: getattr(instance, name) for name in SETTINGS_FIELDS}
        fields.update(validated_data)
        with transaction.atomic():
            probe = probe_configure(
                component=instance.component, probe=instance, url=url, locations=locations, **fields
            )
            return self._hold(probe, until) if held else probe


class HoldSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ComponentStatus.choices)
    until = serializers.DateTimeField(required=False, allow_null=True, default=None)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class HistoryQuerySerializer(serializers.Serializer):
    hours = serializers.IntegerField(min_value=1, max_value=720, default=24)
    limit = serializers.IntegerField(min_value=0, max_value=5000, default=500)
