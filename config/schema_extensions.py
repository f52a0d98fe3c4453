"""Schema annotations for API views of other apps whose request or response drf-spectacular
cannot guess (plain APIViews with input serializers). Kept here, as OpenApiViewExtensions
matched by dotted path, so those apps need not import the console; imported by
config.apps.VigilConfig.ready(). A view renamed or moved simply stops being annotated (the
schema test then reports its missing request/response)."""

import re

from django.utils.module_loading import import_string
from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
    OpenApiViewExtension,
)
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers

from alerts.serializers import (
    AcknowledgeSerializer,
    AlertSerializer,
    ManualAlertSerializer,
    ResolveSerializer,
)
from config.schema_responses import ref
from notifications.models import Channel
from statuspage.serializers import (
    ComponentSerializer,
    ComponentStatusInput,
    IncidentCreateInput,
    IncidentUpdateInput,
    MaintenanceCancelInput,
    MaintenanceInput,
    MessageInput,
)

# Raw schemas (dicts) are used as given; config.schema adds the named ones they refer to.
INCIDENT = ref("IncidentEnvelope")
MAINTENANCE = ref("MaintenanceEnvelope")
CONFLICT = OpenApiResponse(description="The transition is not allowed from the current state (error shape).")


# Alertmanager's webhook payload (version 4), the parts alerts.alertmanager reads.
TEXT_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
ALERTMANAGER_PAYLOAD = {
    "type": "object",
    "required": ["version", "alerts"],
    "properties": {
        "version": {"type": "string", "enum": ["4"]},
        "status": {"type": "string", "enum": ["firing", "resolved"]},
        "alerts": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["status", "labels"],
                "properties": {
                    "status": {"type": "string", "enum": ["firing", "resolved"]},
                    "labels": {
                        **TEXT_MAP,
                        "required": ["alertname"],
                        "properties": {"alertname": {"type": "string", "minLength": 1}},
                    },
                    "annotations": TEXT_MAP,
                    "fingerprint": {"type": "string"},
                    "startsAt": {"type": "string", "format": "date-time"},
                    "endsAt": {"type": "string", "format": "date-time"},
                },
            },
        },
    },
}
ALERTMANAGER_COUNTS = inline_serializer(
    "AlertmanagerCounts",
    {
        "fired": serializers.IntegerField(),
        "repeated": serializers.IntegerField(),
        "resolved": serializers.IntegerField(),
        "unchanged": serializers.IntegerField(),
    },
)


class ChannelsFieldSchema(OpenApiSerializerFieldExtension):
    """A rule's channels: ids or kinds when written, the ids they stand for when read."""

    target_class = "alerts.serializers.ChannelsField"

    def map_serializer_field(self, auto_schema, direction):
        if direction == "response":
            return {"type": "array", "items": {"type": "integer"}}
        kind = {"type": "string", "enum": Channel.Kind.values}
        return {
            "type": "array",
            "items": {"oneOf": [{"type": "integer"}, kind]},
            "description": "Channel ids, or kinds: a kind stands for every channel of that kind enabled "
            "when the rule is saved (stored as their ids).",
        }


DOTTED_CLASS = re.compile(r"^[a-z_][\w.]*\.[A-Z]\w*$")


def _resolve(value):
    """Serializers of apps that may not be installed yet are named by dotted path."""
    if isinstance(value, str) and DOTTED_CLASS.match(value):
        return import_string(value)
    if isinstance(value, dict):
        return {key: _resolve(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item) for item in value]
    return value


def _annotate(target: str, *, optional: bool = False, **methods: dict) -> type[OpenApiViewExtension]:
    """An extension that applies extend_schema(**kwargs) to each named method of `target`.
    optional: the view belongs to an app merged later; until then the extension is inert."""

    class Extension(OpenApiViewExtension):
        target_class = target

        def view_replacement(self):
            schemas = {
                name: extend_schema(**{key: _resolve(value) for key, value in kw.items()})
                for name, kw in methods.items()
            }
            return extend_schema_view(**schemas)(type(self.target.__name__, (self.target,), {}))

    Extension.optional = optional
    Extension.__name__ = f"Annotate{target.rsplit('.', 1)[-1]}"
    return Extension


EXTENSIONS = [
    _annotate(
        "statuspage.api.ComponentStatusUpdate",
        put=dict(request=ComponentStatusInput, responses={200: ComponentSerializer, 404: None}),
    ),
    _annotate(
        "statuspage.api.IncidentCreate", post=dict(request=IncidentCreateInput, responses={201: INCIDENT})
    ),
    _annotate(
        "statuspage.api.IncidentUpdate",
        put=dict(request=IncidentUpdateInput, responses={200: INCIDENT, 404: None, 409: CONFLICT}),
    ),
    _annotate(
        "statuspage.api.MaintenanceCreate", post=dict(request=MaintenanceInput, responses={201: MAINTENANCE})
    ),
    _annotate(
        "statuspage.api.MaintenanceStart",
        post=dict(request=MessageInput, responses={200: MAINTENANCE, 404: None, 409: CONFLICT}),
    ),
    _annotate(
        "statuspage.api.MaintenanceComplete",
        post=dict(request=MessageInput, responses={200: MAINTENANCE, 404: None, 409: CONFLICT}),
    ),
    _annotate(
        "statuspage.api.MaintenanceCancel",
        post=dict(
            request=MaintenanceCancelInput,
            responses={200: MAINTENANCE, 404: None, 409: CONFLICT},
            description="Cancel a window that has not ended: it leaves the upcoming list, releases its "
            "components and stays in the calendar feeds as cancelled. A completed or cancelled window "
            "is refused (409). In the Statuspage shape a cancelled window reads as completed, with "
            "`cancelled_at` set.",
        ),
    ),
    _annotate(
        "healthchecks.views.detailed",
        get=dict(
            responses={200: ref("HealthReportDetailed"), 503: ref("HealthReportDetailed")},
            description="Every check with its latency and details; 503 when one is down.",
        ),
    ),
    _annotate(
        "alerts.api.alertmanager_webhook",
        post=dict(
            request={"application/json": ALERTMANAGER_PAYLOAD},
            responses={200: ALERTMANAGER_COUNTS},
            description="Prometheus Alertmanager webhook payload (version 4).",
        ),
    ),
    _annotate(
        "monitoring.api.MetricIngestView",
        post=dict(
            request=OpenApiTypes.OBJECT,
            responses={
                201: inline_serializer("IngestResult", {"written": serializers.IntegerField()}),
                413: OpenApiResponse(description="Body or batch too large (error shape)."),
            },
            description='One point, a list of points, or {"points": [...]} (at most 10,000). '
            "A point: name, value, type, category, unit, source, endpoint, tags, timestamp.",
        ),
    ),
    _annotate(
        "alerts.api.AlertViewSet",
        create=dict(request=ManualAlertSerializer, responses={201: AlertSerializer, 200: AlertSerializer}),
        acknowledge=dict(request=AcknowledgeSerializer, responses={200: AlertSerializer, 409: CONFLICT}),
        resolve=dict(request=ResolveSerializer, responses={200: AlertSerializer, 409: CONFLICT}),
        reopen=dict(request=AcknowledgeSerializer, responses={200: AlertSerializer, 409: CONFLICT}),
    ),
    # Component probes (healthchecks.api, from the probes branch).
    _annotate(
        "healthchecks.api.ProbeViewSet",
        optional=True,
        hold=dict(
            request="healthchecks.serializers.HoldSerializer",
            responses={200: "healthchecks.serializers.ProbeSerializer"},
        ),
    ),
    _annotate(
        "healthchecks.api.system_status",
        optional=True,
        get=dict(
            responses={200: ref("SystemStatus")}, description="Every component's status and probe verdict."
        ),
    ),
    _annotate(
        "healthchecks.api.service_health",
        optional=True,
        get=dict(
            parameters=[
                OpenApiParameter("service", str, OpenApiParameter.PATH),
                "healthchecks.serializers.HistoryQuerySerializer",
            ],
            responses={200: ref("ServiceHistory"), 404: None},
            description="One service's probe history (query: see HistoryQuerySerializer).",
        ),
    ),
]


class KeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """The API key (or a legacy token) as a bearer credential; `Token <key>` works the same."""

    target_class = "config.authentication.KeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An API key (`vgl_…`, scoped, see docs/security.md) or a legacy token, as "
                "`Authorization: Bearer <key>` or `Authorization: Token <key>`."
            ),
        }
