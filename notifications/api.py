"""Channels through the API: the same kinds, checks and test message as the admin. Every role
may read; writing needs the model permissions (Administrators). Credentials are write-only:
a read says which are set, never what they are, and a write that leaves one out keeps it."""

from copy import copy

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core import outbound
from notifications.models import Channel
from notifications.services import channel_delete, channel_save, channel_send_test

# Credentials: never read back. The URL is one for some kinds (a Slack or Discord webhook's
# path), so readers without the right to change channels see its host only, as in the admin.
SECRET_FIELDS = ("secret", "token", "request_headers")


class ChannelSerializer(serializers.ModelSerializer):
    secrets_set = serializers.SerializerMethodField(
        help_text="Which of the write-only credentials (secret, token, request_headers) are set."
    )

    class Meta:
        model = Channel
        fields = [
            "id",
            "name",
            "kind",
            "enabled",
            "min_severity",
            "recipients",
            "url",
            "destination",
            "account_sid",
            "from_number",
            "http_method",
            "content_type",
            "body_template",
            *SECRET_FIELDS,
            "secrets_set",
            "env_key",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["env_key", "created_at", "updated_at"]
        extra_kwargs = {name: {"write_only": True} for name in SECRET_FIELDS}

    def get_secrets_set(self, channel: Channel) -> list[str]:
        return [name for name in SECRET_FIELDS if getattr(channel, name)]

    def to_representation(self, channel):
        data = super().to_representation(channel)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if channel.url and not (user and user.has_perm("notifications.change_channel")):
            data["url"] = outbound.redact_url(channel.url)
        return data

    def validate(self, attrs):
        # The model's checks for the kind, on the channel as it would be saved.
        channel = copy(self.instance) if self.instance is not None else Channel()
        for name, value in attrs.items():
            setattr(channel, name, value)
        try:
            channel.full_clean(exclude=["env_key"])
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs


class ChannelViewSet(viewsets.ModelViewSet):
    lookup_value_regex = "[0-9]+"
    queryset = Channel.objects.order_by("kind", "name")
    serializer_class = ChannelSerializer

    def _save(self, serializer, channel: Channel) -> None:
        for name, value in serializer.validated_data.items():
            setattr(channel, name, value)
        try:
            serializer.instance = channel_save(channel=channel)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None

    def perform_create(self, serializer):
        self._save(serializer, Channel())

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    def perform_destroy(self, channel):
        channel_delete(channel=channel)

    @extend_schema(
        request=None,
        responses={
            202: inline_serializer(
                "ChannelTestQueued",
                {
                    "message": serializers.IntegerField(help_text="The test message's id."),
                    "deliveries": serializers.IntegerField(help_text="Deliveries queued for it."),
                },
            )
        },
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Send a test notification to this channel now, even a disabled one."""
        message = channel_send_test(channel=self.get_object())
        return Response(
            {"message": message.pk, "deliveries": message.deliveries.count()}, status=status.HTTP_202_ACCEPTED
        )
