"""Escalation policies (CRUD) with their steps nested inside. Every role may read; writing needs
the model permissions (Administrators)."""

from django.contrib.auth import get_user_model
from rest_framework import serializers, viewsets

from core.serializers import nested_items_complete
from notifications.models import Channel
from oncall.models import MAX_POLICY_REPEATS, MAX_STEP_REPEATS, EscalationPolicy, Schedule
from oncall.policies import PolicyError, StepSpec, policy_delete, policy_save

MAX_STEPS = 20


class PolicyStepSerializer(serializers.Serializer):
    level = serializers.IntegerField(min_value=1, max_value=MAX_STEPS)
    escalate_after_minutes = serializers.IntegerField(
        min_value=0,
        max_value=7 * 24 * 60,
        help_text="Minutes after the step before (the first: after the alert).",
    )
    repeat = serializers.IntegerField(min_value=0, max_value=MAX_STEP_REPEATS, default=0)
    users = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=get_user_model().objects.filter(is_active=True)
    )
    schedules = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=Schedule.objects.all(),
        help_text="Whoever is on call when the step fires.",
    )
    channels = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=Channel.objects.all())


class EscalationPolicySerializer(serializers.ModelSerializer):
    steps = PolicyStepSerializer(many=True, required=False, max_length=MAX_STEPS)
    repeat = serializers.IntegerField(min_value=0, max_value=MAX_POLICY_REPEATS, default=0)
    rules = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True, help_text="The alert rules using it."
    )

    class Meta:
        model = EscalationPolicy
        fields = [
            "id",
            "name",
            "description",
            "repeat",
            "steps",
            "rules",
            "drill_weekday",
            "drill_time",
            "drill_time_zone",
            "created_at",
        ]
        read_only_fields = ["created_at"]
        validators = []

    def validate_steps(self, steps):
        return nested_items_complete(steps, PolicyStepSerializer())

    def to_representation(self, policy):
        data = super().to_representation(policy)
        data["steps"] = [
            {
                "level": step.level,
                "escalate_after_minutes": step.escalate_after_minutes,
                "repeat": step.repeat,
                "users": [u.pk for u in step.users.all()],
                "schedules": [s.pk for s in step.schedules.all()],
                "channels": [c.pk for c in step.channels.all()],
            }
            for step in policy.steps.all()
        ]
        return data


class EscalationPolicyViewSet(viewsets.ModelViewSet):
    lookup_value_regex = "[0-9]+"
    queryset = EscalationPolicy.objects.prefetch_related(
        "steps__users", "steps__schedules", "steps__channels", "rules"
    ).order_by("name")
    serializer_class = EscalationPolicySerializer

    def _save(self, serializer, policy: EscalationPolicy) -> None:
        values = dict(serializer.validated_data)
        steps = values.pop("steps", None)
        for name, value in values.items():
            setattr(policy, name, value)
        specs = None if steps is None else [StepSpec(**step) for step in steps]
        try:
            saved = policy_save(policy=policy, steps=specs)
        except PolicyError as exc:
            raise serializers.ValidationError(exc.errors) from None
        serializer.instance = self.get_queryset().get(pk=saved.pk)

    def perform_create(self, serializer):
        self._save(serializer, EscalationPolicy())

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    def perform_destroy(self, policy):
        policy_delete(policy=policy)
