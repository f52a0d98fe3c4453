from django.contrib.auth import get_user_model
from rest_framework import serializers

from core.serializers import nested_items_complete
from oncall.models import RotationLayer, Schedule, ScheduleOverride
from oncall.services import NO_MEMBERS, LayerSpec, OverrideSpec

MAX_LAYERS = 20
MAX_MEMBERS = 100
MAX_OVERRIDES = 500


def _people():
    return get_user_model().objects.filter(is_active=True)


class MembersField(serializers.ListField):
    """User ids in rotation order, read from the layer's (prefetched) memberships."""

    child = serializers.PrimaryKeyRelatedField(queryset=_people())

    def get_attribute(self, layer):
        return [membership.user_id for membership in layer.memberships.all()]

    def to_representation(self, data):
        return list(data)


class LayerSerializer(serializers.ModelSerializer):
    members = MembersField(
        allow_empty=False,
        max_length=MAX_MEMBERS,
        help_text="User ids in rotation order.",
        error_messages={"empty": NO_MEMBERS},
    )
    level = serializers.IntegerField(min_value=0, max_value=1000)
    shift_hours = serializers.IntegerField(min_value=1, max_value=24 * 28, required=False, allow_null=True)
    restrict_weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6),
        required=False,
        max_length=7,
        help_text="Days the layer covers, 0 = Monday ... 6 = Sunday; empty: every day.",
    )

    class Meta:
        model = RotationLayer
        fields = [*RotationLayer.SETTINGS, "members"]


class OverrideSerializer(serializers.ModelSerializer):
    user = serializers.PrimaryKeyRelatedField(queryset=_people())

    class Meta:
        model = ScheduleOverride
        fields = ["user", "starts_at", "ends_at"]


class ScheduleSerializer(serializers.ModelSerializer):
    """A schedule with its layers and overrides. Layers and overrides given replace the
    schedule's own; left out of a PATCH, they stay."""

    layers = LayerSerializer(many=True, required=False, max_length=MAX_LAYERS)
    overrides = OverrideSerializer(many=True, required=False, max_length=MAX_OVERRIDES)

    class Meta:
        model = Schedule
        fields = ["id", "name", "description", "time_zone", "layers", "overrides", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate_layers(self, layers: list[dict]) -> list[dict]:
        return nested_items_complete(layers, LayerSerializer())

    def validate_overrides(self, overrides: list[dict]) -> list[dict]:
        return nested_items_complete(overrides, OverrideSerializer())

    def specs(self) -> dict:
        """The service's arguments from the validated input."""
        values = dict(self.validated_data)
        layers = values.pop("layers", None)
        overrides = values.pop("overrides", None)
        return {
            "values": values,
            "layers": None if layers is None else [LayerSpec(**layer) for layer in layers],
            "overrides": None if overrides is None else [OverrideSpec(**item) for item in overrides],
        }
