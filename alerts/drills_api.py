"""The API of paging drills (start one, follow its hops) and of on-call coverage."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts.coverage import coverage_gaps
from alerts.drills import DrillError, drill_answer, drill_hops, drill_start
from alerts.models import AlertRule, PagingDrill
from core.api import error_response
from oncall.models import EscalationPolicy


class DrillHopSerializer(serializers.Serializer):
    person = serializers.CharField(allow_null=True, help_text="The person paged (none: a channel).")
    channel = serializers.CharField(allow_null=True)
    kind = serializers.CharField(help_text="How: email, sms, voice, ntfy, slack...")
    recipient = serializers.CharField()
    subject = serializers.CharField()
    enqueued_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(
        allow_null=True, help_text="When a later page of a person's rules goes out."
    )
    accepted_at = serializers.DateTimeField(allow_null=True, help_text="When the provider accepted it.")
    status = serializers.CharField()
    error = serializers.CharField(allow_blank=True)


class DrillAnswerSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    by = serializers.CharField(allow_blank=True)
    via = serializers.CharField(allow_blank=True, help_text="link, slack, voice... (blank: the console).")
    after_seconds = serializers.FloatField()


class PagingDrillSerializer(serializers.ModelSerializer):
    policy = serializers.PrimaryKeyRelatedField(queryset=EscalationPolicy.objects.all())
    started_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    acknowledged_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    hops = serializers.SerializerMethodField()
    answer = serializers.SerializerMethodField()

    class Meta:
        model = PagingDrill
        fields = [
            "id",
            "policy",
            "alert",
            "started_by",
            "scheduled_for",
            "started_at",
            "answer_by",
            "outcome",
            "acknowledged_at",
            "acknowledged_by",
            "settled_at",
            "missed_alert",
            "answer",
            "hops",
        ]
        read_only_fields = [name for name in fields if name != "policy"]

    @extend_schema_field(DrillHopSerializer(many=True))
    def get_hops(self, drill) -> list[dict]:
        return DrillHopSerializer(drill_hops(drill), many=True).data

    @extend_schema_field(DrillAnswerSerializer(allow_null=True))
    def get_answer(self, drill) -> dict | None:
        answer = drill_answer(drill)
        return None if answer is None else DrillAnswerSerializer(answer).data


class PagingDrillViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Paging drills: POST {"policy": id} starts one now; each shows its pages (hops) and who
    acknowledged, how and how fast."""

    lookup_value_regex = "[0-9]+"
    serializer_class = PagingDrillSerializer
    queryset = PagingDrill.objects.select_related("policy", "alert", "started_by", "acknowledged_by")

    @extend_schema(
        responses={
            201: PagingDrillSerializer,
            400: OpenApiResponse(description="No such policy, or a policy without steps."),
        }
    )
    def create(self, request):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            drill = drill_start(policy=data.validated_data["policy"], user=request.user)
        except DrillError as exc:
            return error_response(str(exc), status.HTTP_400_BAD_REQUEST, field="policy")
        return Response(self.get_serializer(drill).data, status=status.HTTP_201_CREATED)


class GapSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    hours = serializers.IntegerField()


class PolicyCoverageSerializer(serializers.Serializer):
    policy = serializers.IntegerField()
    name = serializers.CharField()
    rules = serializers.ListField(child=serializers.CharField())
    uncovered_hours = serializers.IntegerField()
    gaps = GapSerializer(many=True)


class CoverageSerializer(serializers.Serializer):
    checked_at = serializers.DateTimeField()
    days = serializers.IntegerField()
    covered = serializers.BooleanField(
        help_text="True: every urgent rule's policy reaches someone throughout."
    )
    policies = PolicyCoverageSerializer(many=True)


class OnCallCoverageView(APIView):
    """The hours of the next 14 days in which an enabled critical or high rule's escalation policy
    reaches nobody with a verified contact method (what `manage.py check_oncall` lists)."""

    # Read with the alert rules' permission: it is a property of the rules and their policies.
    queryset = AlertRule.objects.none()

    @extend_schema(responses={200: CoverageSerializer})
    def get(self, request):
        now = timezone.now()
        gaps = coverage_gaps(now=now)
        body = {
            "checked_at": now,
            "days": 14,
            "covered": not gaps,
            "policies": [
                {
                    "policy": gap.policy.pk,
                    "name": gap.policy.name,
                    "rules": gap.rules,
                    "uncovered_hours": len(gap.hours),
                    "gaps": [
                        {
                            "starts_at": begin,
                            "ends_at": end,
                            "hours": int((end - begin).total_seconds() // 3600),
                        }
                        for begin, end in gap.ranges()
                    ],
                }
                for gap in gaps
            ],
        }
        return Response(CoverageSerializer(body).data)
