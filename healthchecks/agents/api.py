"""The agents' API (/api/agent/...: an agent key, not a staff login) and the staff API of
locations, agent keys and component quorums (/api/operations/...)."""

from django.db import IntegrityError
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import authentication, exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from core.http import client_address
from healthchecks.agents import services
from healthchecks.agents.models import AgentKey, ComponentQuorum, ProbeLocation
from healthchecks.agents.serializers import (
    AgentKeyCreatedSerializer,
    AgentKeySerializer,
    ComponentQuorumSerializer,
    ProbeLocationSerializer,
)

# --- the agents' side ---------------------------------------------------------------------


class AgentPrincipal:
    """request.user of an agent's request: the key's location, never a staff user."""

    is_authenticated = True
    is_staff = is_superuser = is_active = False

    def __init__(self, key: AgentKey) -> None:
        self.key = key
        self.location = key.location


class AgentKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <agent key>`; a revoked or unknown key is 401. A key is 256 random
    bits (core.tokens), so guessing one is no strategy; only its digest is looked up."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send one agent key: Authorization: Bearer <key>.")
        try:
            secret = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("The agent key is not valid.") from exc
        key = services.agent_key_authenticate(secret, address=client_address(request._request) or None)
        if key is None:
            raise exceptions.AuthenticationFailed("The agent key is not valid or was revoked.")
        return AgentPrincipal(key), key

    def authenticate_header(self, request):
        return f'{self.keyword} realm="agent"'


class AgentKeyScheme(OpenApiAuthenticationExtension):
    target_class = "healthchecks.agents.api.AgentKeyAuthentication"
    name = "agentKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An agent key of a probe location."}


class IsAgent:
    def has_permission(self, request, view):
        return isinstance(request.user, AgentPrincipal)

    def has_object_permission(self, request, view, obj):
        return self.has_permission(request, view)


class AgentView(APIView):
    authentication_classes = [AgentKeyAuthentication]
    permission_classes = [IsAgent]
    throttle_classes: list = []  # agents are known by their key, not throttled as anonymous visitors


LOCATION = inline_serializer(
    "AgentLocation",
    {"id": serializers.IntegerField(), "name": serializers.CharField(), "slug": serializers.CharField()},
)
REGISTERED = inline_serializer(
    "AgentRegistration",
    {
        "location": LOCATION,
        "key_prefix": serializers.CharField(),
        "batch_max": serializers.IntegerField(),
        "probes": serializers.IntegerField(help_text="Probes assigned to the location."),
    },
)


class AgentRegister(AgentView):
    @extend_schema(
        request=inline_serializer(
            "AgentRegisterRequest",
            {
                "name": serializers.CharField(
                    required=False, max_length=100, help_text="The agent's host name."
                )
            },
        ),
        responses={200: REGISTERED},
        tags=["agent"],
    )
    def post(self, request):
        """An agent starting up: which location its key is for, and how much a batch may hold."""
        key = request.auth
        name = request.data.get("name", "") if isinstance(request.data, dict) else ""
        if not isinstance(name, str) or len(name) > 100:
            raise exceptions.ValidationError({"name": ["At most 100 characters of text."]})
        services.agent_key_name(key=key, name=name)
        location = key.location
        listed, _ = services.agent_probe_list(location)
        return Response(
            {
                "location": {"id": location.pk, "name": location.name, "slug": location.slug},
                "key_prefix": key.prefix,
                "batch_max": services.settings.AGENT_BATCH_MAX,
                "probes": len(listed),
            }
        )


SPEC = inline_serializer(
    "AgentProbeSpec",
    {
        "probe_id": serializers.IntegerField(),
        "url": serializers.CharField(),
        "kind": serializers.CharField(),
        "host": serializers.CharField(),
        "port": serializers.IntegerField(allow_null=True),
        "tls_handshake": serializers.BooleanField(),
        "record_type": serializers.CharField(),
        "expected_values": serializers.ListField(child=serializers.CharField()),
        "nameserver": serializers.CharField(allow_null=True),
        "nameserver_port": serializers.IntegerField(),
        "method": serializers.CharField(),
        "request_headers": serializers.CharField(),
        "request_body": serializers.CharField(),
        "basic_auth_user": serializers.CharField(),
        "basic_auth_password": serializers.CharField(),
        "verify_tls": serializers.BooleanField(),
        "expected_status_codes": serializers.ListField(child=serializers.IntegerField()),
        "keyword": serializers.CharField(),
        "json_path": serializers.CharField(),
        "json_value": serializers.CharField(),
        "timeout": serializers.FloatField(),
        "degraded_latency_ms": serializers.FloatField(),
        "check_certificate": serializers.BooleanField(),
        "interval_seconds": serializers.IntegerField(),
    },
)


class AgentProbes(AgentView):
    @extend_schema(
        responses={
            200: inline_serializer("AgentProbeList", {"probes": SPEC.__class__(many=True)}),
            304: OpenApiResponse(description="The list is unchanged since the ETag sent in If-None-Match"),
        },
        tags=["agent"],
    )
    def get(self, request):
        """The probes assigned to the key's location, as the settings the agent runs. Send the
        last ETag as If-None-Match: an unchanged list is a 304 without a body."""
        listed, etag = services.agent_probe_list(request.auth.location)
        if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
            response = Response(status=status.HTTP_304_NOT_MODIFIED)
        else:
            response = Response({"probes": listed})
        response["ETag"] = etag
        return response


RESULT = inline_serializer(
    "AgentResult",
    {
        "id": serializers.UUIDField(help_text="The agent's id for this result: a resend is stored once."),
        "probe": serializers.IntegerField(min_value=1),
        "checked_at": serializers.DateTimeField(),
        "verdict": serializers.ChoiceField(choices=services.VERDICTS),
        "latency_ms": serializers.FloatField(allow_null=True, required=False, min_value=0),
        "status_code": serializers.IntegerField(
            allow_null=True, required=False, min_value=100, max_value=599
        ),
        "detail": serializers.CharField(required=False, allow_blank=True, max_length=500),
    },
)


class AgentResults(AgentView):
    @extend_schema(
        request=inline_serializer("AgentResultBatch", {"results": RESULT.__class__(many=True)}),
        responses={
            200: inline_serializer(
                "AgentResultsStored",
                {
                    "accepted": serializers.IntegerField(help_text="New results stored and counted."),
                    "duplicates": serializers.IntegerField(help_text="Results stored before (a resend)."),
                    "ignored": serializers.IntegerField(help_text="Results for probes not assigned here."),
                    "status_changes": serializers.IntegerField(),
                },
            )
        },
        tags=["agent"],
    )
    def post(self, request):
        """A batch of results (at most AGENT_BATCH_MAX). Each is stored once by its `id`, so an
        agent resends a batch whose answer it did not get; results for probes no longer
        assigned to the location are ignored."""
        body = request.data if isinstance(request.data, dict) else {}
        try:
            results = services.parse_results(body.get("results"))
        except services.AgentError as exc:
            field = str(exc).split(":", 1)[0]
            raise exceptions.ValidationError({"results": [str(exc)]} if field else str(exc)) from exc
        summary = services.agent_results_ingest(location=request.auth.location, results=results)
        return Response(summary.as_dict())


# --- the staff side -----------------------------------------------------------------------


def _refused(exc: Exception, field: str = "non_field_errors"):
    return exceptions.ValidationError({field: [str(exc)]})


class ProbeLocationViewSet(viewsets.ModelViewSet):
    lookup_value_regex = "[0-9]+"
    queryset = ProbeLocation.objects.order_by("name")
    serializer_class = ProbeLocationSerializer

    def perform_create(self, serializer):
        try:
            serializer.instance = services.location_create(**serializer.validated_data)
        except (services.AgentError, IntegrityError) as exc:
            raise _refused(exc, "name") from exc

    def perform_update(self, serializer):
        try:
            serializer.instance = services.location_update(
                location=serializer.instance, **serializer.validated_data
            )
        except (services.AgentError, IntegrityError) as exc:
            raise _refused(exc, "name") from exc


class AgentKeyViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    lookup_value_regex = "[0-9]+"
    queryset = AgentKey.objects.select_related("location").order_by("pk")
    serializer_class = AgentKeySerializer
    filterset_fields = ["location"]

    @extend_schema(responses={201: AgentKeyCreatedSerializer})
    def create(self, request, *args, **kwargs):
        """A new key for a location; the key itself is in this answer only (only its digest is kept)."""
        data = AgentKeySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key, secret = services.agent_key_create(actor=request.user, **data.validated_data)
        return Response({**AgentKeySerializer(key).data, "key": secret}, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=AgentKeySerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Refuse this key from now on (401); revoking twice keeps the first time."""
        key = services.agent_key_revoke(key=self.get_object())
        return Response(AgentKeySerializer(key).data)


class ComponentQuorumViewSet(viewsets.ModelViewSet):
    lookup_value_regex = "[0-9]+"
    queryset = ComponentQuorum.objects.select_related("component").order_by("pk")
    serializer_class = ComponentQuorumSerializer
    filterset_fields = ["component"]

    def perform_create(self, serializer):
        serializer.instance = services.quorum_set(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.quorum_set(
            component=serializer.instance.component,
            locations_required=serializer.validated_data.get(
                "locations_required", serializer.instance.locations_required
            ),
        )

    def perform_destroy(self, instance):
        services.quorum_clear(component=instance.component)
