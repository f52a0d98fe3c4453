"""/api/operations/api-keys: a staff user's own API keys (Administrators see and revoke everyone's).

A new key is in the creation answer only (`key`); later reads show its prefix. A key used to call
this endpoint cannot create a key with a scope it does not have itself.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from config import api_keys
from config.models import ApiKey

MANAGE_ALL = "config.change_apikey"


class ApiKeySerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=list(api_keys.SCOPES)), min_length=1)
    state = serializers.SerializerMethodField()

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "user",
            "prefix",
            "scopes",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
            "last_used_from",
            "state",
        ]
        read_only_fields = ["prefix", "created_at", "revoked_at", "last_used_at", "last_used_from"]

    def get_state(self, key: ApiKey) -> str:
        return api_key_state(key)


class NewApiKeySerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True, help_text="The key itself: shown in this answer only.")
    username = serializers.CharField(
        write_only=True, required=False, help_text="Whose key (Administrators only; default: yours)."
    )

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key", "username"]


def api_key_state(key: ApiKey) -> str:
    from django.utils import timezone

    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= timezone.now():
        return "expired"
    return "active"


class StaffOnly(permissions.BasePermission):
    """Any staff user manages their own keys; the role decides only whose else they see."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class ApiKeyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ApiKeySerializer
    permission_classes = [StaffOnly]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        keys = ApiKey.objects.select_related("user").order_by("-created_at", "-id")
        if getattr(self, "swagger_fake_view", False):
            return keys.none()  # the schema is drawn without a user
        if self.request.user.has_perm(MANAGE_ALL):
            return keys
        return keys.filter(user=self.request.user)

    @extend_schema(
        request=NewApiKeySerializer,
        responses={
            201: NewApiKeySerializer,
            400: OpenApiResponse(description="A field is missing or wrong (error shape)."),
            403: OpenApiResponse(description="Not allowed (error shape)."),
        },
    )
    def create(self, request):
        serializer = NewApiKeySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        owner = self._owner(data.get("username"))
        own_scopes = api_keys.scopes_of(request.auth)
        if own_scopes is not None and not set(data["scopes"]) <= own_scopes:
            raise PermissionDenied("An API key cannot make a key with a scope it does not have itself.")
        try:
            key, raw = api_keys.api_key_create(
                user=owner, name=data["name"], scopes=data["scopes"], expires_at=data.get("expires_at")
            )
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        answer = NewApiKeySerializer(key).data
        answer["key"] = raw
        return Response(answer, status=status.HTTP_201_CREATED)

    def _owner(self, username: str | None):
        user = self.request.user
        if not username or username == user.get_username():
            return user
        if not user.has_perm(MANAGE_ALL):
            raise PermissionDenied("Only Administrators make keys for other users.")
        owner = get_user_model().objects.filter(username=username, is_staff=True, is_active=True).first()
        if owner is None:
            raise serializers.ValidationError({"username": "No active staff user has this name."})
        return owner

    @extend_schema(request=None, responses={200: ApiKeySerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        key = api_keys.api_key_revoke(key=self.get_object())
        return Response(ApiKeySerializer(key).data)
