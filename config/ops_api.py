"""The console's API: GET /api/operations/dashboard and GET|PUT /api/operations/config."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.console import DASHBOARD_PERMISSIONS
from config.dashboard import dashboard_data
from config.models import OperationsConfig
from config.runtime_config import config_get, config_update
from notifications.models import Channel


class DashboardView(APIView):
    """Everything the console's first page shows: overall status, open alerts by severity,
    active incidents, maintenance, who is on call, response times (MTTA/MTTR), failing probes and
    deliveries, service levels and the last verified backup, visitors' trouble reports of the last
    hour per component, 24 h charts."""

    required_permissions = {"GET": list(DASHBOARD_PERMISSIONS)}

    @extend_schema(
        responses=OpenApiResponse(
            response=inline_serializer(
                "Dashboard",
                {
                    "generated_at": serializers.DateTimeField(),
                    "status": serializers.DictField(),
                    "alerts": serializers.DictField(),
                    "incidents": serializers.DictField(),
                    "maintenance": serializers.DictField(),
                    "oncall": serializers.DictField(),
                    "response_times": serializers.DictField(),
                    "service_levels": serializers.DictField(),
                    "visitor_reports": serializers.DictField(),
                    "probes": serializers.DictField(),
                    "deliveries": serializers.DictField(),
                    "charts": serializers.DictField(),
                },
            ),
            description="The dashboard's panels; see docs/console-and-api.md.",
        )
    )
    def get(self, request):
        return Response(dashboard_data())


class ChannelSwitchSerializer(serializers.Serializer):
    # Bounded like the BigAutoField it names: a larger number cannot be an id, and the database
    # would refuse it in the IN (...) lookup below with an error rather than an empty result.
    id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    name = serializers.CharField(read_only=True)
    kind = serializers.CharField(read_only=True)
    enabled = serializers.BooleanField()


class OperationsConfigSerializer(serializers.ModelSerializer):
    channels = ChannelSwitchSerializer(many=True, required=False)
    updated_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = OperationsConfig
        exclude = ["id"]
        read_only_fields = ["updated_at", "updated_by"]

    def validate_channels(self, value: list[dict]) -> list[dict]:
        # PUT is partial, and DRF's partial mode skips required fields of nested items too.
        if any("id" not in item or "enabled" not in item for item in value):
            raise serializers.ValidationError(
                'Each channel is {"id": <channel id>, "enabled": true or false}.'
            )
        ids = [item["id"] for item in value]
        if len(ids) != len(set(ids)):
            raise serializers.ValidationError("Each channel may appear once.")
        known = set(Channel.objects.filter(pk__in=ids).values_list("pk", flat=True))
        missing = sorted(set(ids) - known)
        if missing:
            raise serializers.ValidationError(f"No channel with id {', '.join(map(str, missing))}.")
        return value

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["channels"] = [
            {"id": c.pk, "name": c.name, "kind": c.kind, "enabled": c.enabled}
            for c in Channel.objects.order_by("kind", "name")
        ]
        return data


class OperationsConfigView(APIView):
    """Thresholds, intervals and channel switches staff change at run time. PUT takes any
    subset of the fields (the rest keep their values); channels: [{"id": 1, "enabled": false}]."""

    queryset = OperationsConfig.objects.all()

    @extend_schema(responses=OperationsConfigSerializer)
    def get(self, request):
        return Response(OperationsConfigSerializer(config_get()).data)

    # Any subset of the fields: the request schema is the partial one (nothing required).
    @extend_schema(request=OperationsConfigSerializer(partial=True), responses=OperationsConfigSerializer)
    def put(self, request):
        data = OperationsConfigSerializer(config_get(), data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        channels = values.pop("channels", [])
        if channels and not request.user.has_perm("notifications.change_channel"):
            return Response({"detail": "Changing channels needs notifications.change_channel."}, status=403)
        row = config_update(values=values, user=request.user, channels=channels)
        return Response(OperationsConfigSerializer(row).data)
