"""A person's own contact methods and notification rules (/users/me/...): every staff user
manages their own, and nobody else's, whatever their role. Another person's method is a 404."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from oncall.models import MAX_RULE_DELAY, ContactMethod, NotificationRule, Urgency
from oncall.people import (
    ContactMethodError,
    RuleSpec,
    contact_method_check_code,
    contact_method_delete,
    contact_method_save,
    contact_method_send_code,
    notification_rules_set,
)

MAX_RULES = 50
ID = "[0-9]+"


class ContactMethodSerializer(serializers.ModelSerializer):
    verified = serializers.BooleanField(source="is_verified", read_only=True)

    class Meta:
        model = ContactMethod
        fields = ["id", "kind", "address", "label", "verified", "verified_at", "created_at"]
        read_only_fields = ["verified_at", "created_at"]
        validators = []  # the unique constraint is checked by the service, as a 400 naming the field


class VerifySerializer(serializers.Serializer):
    code = serializers.CharField(
        required=False,
        max_length=12,
        help_text="The code that was sent. Leave it out to have a new code sent.",
    )


VERIFY_SENT = inline_serializer("VerificationSent", {"detail": serializers.CharField()})


def _refused(exc: ContactMethodError) -> Response:
    return Response({"detail": str(exc), "errors": exc.errors}, status=exc.status)


class MyContactMethodViewSet(viewsets.ModelViewSet):
    """The caller's own contact methods. A new or changed method is unverified until the code
    sent to it comes back (POST .../verify); only verified methods are paged."""

    _ignore_model_permissions = True  # staff only, and each person only their own rows
    serializer_class = ContactMethodSerializer
    lookup_value_regex = ID
    queryset = ContactMethod.objects.none()

    def get_queryset(self):
        return ContactMethod.objects.filter(user=self.request.user).order_by("kind", "address")

    def _save(self, serializer, method: ContactMethod) -> None:
        for name, value in serializer.validated_data.items():
            setattr(method, name, value)
        try:
            serializer.instance = contact_method_save(method=method)
        except ContactMethodError as exc:
            raise serializers.ValidationError(exc.errors) from None

    def perform_create(self, serializer):
        self._save(serializer, ContactMethod(user=self.request.user))

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    def perform_destroy(self, method):
        contact_method_delete(method=method)

    @extend_schema(
        request=VerifySerializer,
        responses={
            200: ContactMethodSerializer,
            202: OpenApiResponse(VERIFY_SENT, description="A new code was sent to the method."),
            409: OpenApiResponse(
                description="Already verified, no code sent yet, or a kind Vigil cannot send to yet."
            ),
            429: OpenApiResponse(
                description="Too many wrong codes, or a code was sent less than a minute ago."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        """Without `code`: send a new 6-digit code to the method (it works for 10 minutes, for 5
        tries). With `code`: check it, and mark the method verified."""
        method = self.get_object()
        data = VerifySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            if "code" in data.validated_data:
                method = contact_method_check_code(method=method, code=data.validated_data["code"])
                return Response(ContactMethodSerializer(method).data)
            contact_method_send_code(method=method)
        except ContactMethodError as exc:
            return _refused(exc)
        return Response(
            {"detail": "A code was sent; it works for 10 minutes."}, status=status.HTTP_202_ACCEPTED
        )


class RuleSerializer(serializers.Serializer):
    urgency = serializers.ChoiceField(choices=Urgency.choices)
    contact_method = serializers.IntegerField(min_value=1, help_text="One of your contact methods (id).")
    delay_minutes = serializers.IntegerField(min_value=0, max_value=MAX_RULE_DELAY, default=0)


class RulesSerializer(serializers.Serializer):
    rules = RuleSerializer(many=True, max_length=MAX_RULES)


def _rules_answer(user) -> dict:
    rows = NotificationRule.objects.filter(user=user).order_by("urgency", "delay_minutes", "pk")
    return {
        "rules": [
            {"urgency": r.urgency, "contact_method": r.contact_method_id, "delay_minutes": r.delay_minutes}
            for r in rows
        ]
    }


class MyNotificationRulesView(APIView):
    """The caller's own notification rules: for each urgency (high: critical and high alerts;
    low: medium and low), which method to use how many minutes after a page. With no rule for an
    urgency, a page goes to every verified e-mail method at once."""

    _ignore_model_permissions = True

    @extend_schema(responses={200: RulesSerializer})
    def get(self, request):
        return Response(_rules_answer(request.user))

    @extend_schema(request=RulesSerializer, responses={200: RulesSerializer})
    def put(self, request):
        """Replace all of your rules."""
        data = RulesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        mine = {m.pk: m for m in ContactMethod.objects.filter(user=request.user)}
        unknown = [
            f"[{i}].contact_method: You have no contact method {r['contact_method']}."
            for i, r in enumerate(data.validated_data["rules"])
            if r["contact_method"] not in mine
        ]
        if unknown:
            raise serializers.ValidationError({"rules": unknown})
        specs = [
            RuleSpec(
                urgency=r["urgency"],
                contact_method=mine[r["contact_method"]],
                delay_minutes=r["delay_minutes"],
            )
            for r in data.validated_data["rules"]
        ]
        try:
            notification_rules_set(user=request.user, rules=specs)
        except ContactMethodError as exc:
            raise serializers.ValidationError(exc.errors) from None
        return Response(_rules_answer(request.user))
