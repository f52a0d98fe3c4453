from django.db import transaction
from rest_framework import serializers

from alerts.matching import OPERATORS, matcher_problems
from alerts.models import Alert, AlertEvent, AlertRule, Severity, Silence
from alerts.services import BUILT_IN_LABELS
from core.serializers import nested_items_complete
from core.text import validate_line, validate_text
from notifications.models import Channel, Delivery, DeliveryAttempt
from oncall.models import EscalationPolicy
from oncall.policies import PolicyError, StepSpec, free_policy_name, policy_delete, policy_save
from statuspage.models import OPEN_STATUS_CHOICES, STATUS_OF_IMPACT, Impact, IncidentTemplate
from statuspage.serializers import AffectedComponentsField

MAX_ESCALATION_STEPS = 10


class ChannelsField(serializers.ManyRelatedField):
    """Channels by id (3) or by kind ("email"), as the specification's examples name them. A kind
    stands for every channel of that kind enabled when the rule is saved; the rule stores their
    ids, so it reads back as ids and a channel added later is not on it until the rule is saved
    again. The schema of both directions is in config.schema_extensions."""

    def __init__(self, **kwargs):
        super().__init__(
            child_relation=serializers.PrimaryKeyRelatedField(queryset=Channel.objects.all()), **kwargs
        )

    def to_internal_value(self, data):
        if isinstance(data, str | dict) or not hasattr(data, "__iter__"):
            self.fail("not_a_list", input_type=type(data).__name__)
        channels = []
        for item in data:
            if isinstance(item, str) and not item.isdigit():
                channels.extend(_channels_of_kind(item))
            else:
                channels.append(self.child_relation.to_internal_value(item))
        return list({channel.pk: channel for channel in channels}.values())


def _channels_of_kind(kind: str) -> list[Channel]:
    if kind not in Channel.Kind.values:
        raise serializers.ValidationError(
            f"{kind!r} is neither a channel id nor a channel kind ({', '.join(Channel.Kind.values)})."
        )
    channels = list(Channel.objects.filter(kind=kind, enabled=True).order_by("pk"))
    if not channels:
        raise serializers.ValidationError(f"No channel of kind {kind!r} is enabled.")
    return channels


class EscalationStepSerializer(serializers.Serializer):
    """A step of the rule's own escalation policy, as the rule API has always shown it."""

    level = serializers.IntegerField(min_value=1, max_value=MAX_ESCALATION_STEPS)
    escalate_after_minutes = serializers.IntegerField(min_value=1, max_value=7 * 24 * 60)
    channels = ChannelsField()
    repeat = serializers.IntegerField(min_value=0, max_value=10, default=0)


class SpecEscalationSerializer(serializers.Serializer):
    """One escalation in the specification's words: after `escalateAfterMinutes`, to
    `escalateToChannels` (ids or kinds). Written as the rule's single escalation step."""

    enabled = serializers.BooleanField(default=True)
    escalateAfterMinutes = serializers.IntegerField(min_value=1, max_value=7 * 24 * 60, default=15)  # noqa: N815
    escalateToChannels = ChannelsField()  # noqa: N815

    def as_steps(self, data: dict) -> list[dict]:
        if not data["enabled"]:
            return []
        return [
            {
                "level": 1,
                "escalate_after_minutes": data["escalateAfterMinutes"],
                "channels": data["escalateToChannels"],
                "repeat": 0,
            }
        ]


class AlertRuleSerializer(serializers.ModelSerializer):
    channels = ChannelsField(required=False)
    escalation_steps = EscalationStepSerializer(
        many=True,
        required=False,
        help_text="The steps of the rule's escalation policy (channels only). Writing them makes "
        "the rule its own policy (named after the rule); give this, escalation or escalationPolicy.",
    )
    escalation = SpecEscalationSerializer(
        required=False,
        write_only=True,
        help_text="The specification's shape of one escalation, written as the rule's own policy "
        "with one step; the rule reads back as its escalation_steps.",
    )
    escalationPolicy = serializers.PrimaryKeyRelatedField(  # noqa: N815
        source="escalation_policy",
        queryset=EscalationPolicy.objects.all(),
        allow_null=True,
        required=False,
        help_text="The escalation policy (id) that pages people for this rule's alerts; null: none.",
    )
    # Declared (not the model's JSONField) so the schema says what is accepted: tag names to
    # values (numbers are taken and stored as text).
    tags = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=200),
        required=False,
        help_text="Points must carry all these tag values.",
    )
    window_minutes = serializers.IntegerField(min_value=1, max_value=24 * 60, default=5)
    duration_minutes = serializers.IntegerField(min_value=0, max_value=24 * 60, default=0)
    keep_firing_for_minutes = serializers.IntegerField(min_value=0, max_value=24 * 60, default=0)

    class Meta:
        model = AlertRule
        fields = [
            "id",
            "name",
            "description",
            "metric_type",
            "category",
            "metric_name",
            "source",
            "endpoint",
            "tags",
            "aggregation",
            "window_minutes",
            "operator",
            "threshold",
            "duration_minutes",
            "keep_firing_for_minutes",
            "no_data",
            "severity",
            "enabled",
            "channels",
            "component",
            "runbook_url",
            "escalationPolicy",
            "escalation_steps",
            "escalation",
            "state",
            "pending_since",
            "firing_since",
            "last_evaluated_at",
            "last_value",
            "last_error",
            "flapping",
        ]
        read_only_fields = AlertRule.EVALUATION_FIELDS

    def validate_escalation_steps(self, steps):
        nested_items_complete(steps, EscalationStepSerializer())
        levels = [step["level"] for step in steps]
        if len(levels) != len(set(levels)):
            raise serializers.ValidationError("Each escalation step needs its own level.")
        return steps

    def validate(self, data):
        if "escalation" in data:
            if "escalation_steps" in data:
                raise serializers.ValidationError(
                    {"escalation": ["Give escalation or escalation_steps, not both."]}
                )
            data["escalation_steps"] = SpecEscalationSerializer().as_steps(data.pop("escalation"))
        if "escalation_steps" in data and "escalation_policy" in data:
            raise serializers.ValidationError(
                {"escalationPolicy": ["Give escalationPolicy or the rule's own steps, not both."]}
            )
        metric_name = data.get("metric_name", getattr(self.instance, "metric_name", ""))
        category = data.get("category", getattr(self.instance, "category", ""))
        if not metric_name and not category:
            raise serializers.ValidationError({"metric_name": ["Give a metric name or a category to watch."]})
        return data

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["escalation_steps"] = rule_steps(instance)
        return data

    @transaction.atomic
    def create(self, validated_data):
        steps = validated_data.pop("escalation_steps", None)
        rule = super().create(validated_data)
        if steps is not None:
            _replace_steps(rule, steps)
        return rule

    @transaction.atomic
    def update(self, instance, validated_data):
        steps = validated_data.pop("escalation_steps", None)
        rule = super().update(instance, validated_data)
        if steps is not None:
            _replace_steps(rule, steps)
        return rule


def _replace_steps(rule: AlertRule, steps: list[dict]) -> None:
    """Write `steps` as the rule's own policy: its policy if no other rule uses it, else a new one."""
    policy = rule.escalation_policy
    own = policy is not None and not policy.rules.exclude(pk=rule.pk).exists()
    if not steps:
        rule.escalation_policy = None
        rule.save(update_fields=["escalation_policy"])
        if own:
            policy_delete(policy=policy)
        return
    if not own:
        policy = EscalationPolicy(name=free_policy_name(rule.name))
    specs = [
        StepSpec(
            level=step["level"],
            escalate_after_minutes=step["escalate_after_minutes"],
            repeat=step.get("repeat", 0),
            channels=step["channels"],
        )
        for step in steps
    ]
    try:
        policy_save(policy=policy, steps=specs)
    except PolicyError as exc:
        raise serializers.ValidationError({"escalation_steps": [str(exc)]}) from None
    if rule.escalation_policy_id != policy.pk:
        rule.escalation_policy = policy
        rule.save(update_fields=["escalation_policy"])


def rule_steps(rule: AlertRule) -> list[dict]:
    if rule.escalation_policy_id is None:
        return []
    return [
        {
            "level": step.level,
            "escalate_after_minutes": step.escalate_after_minutes,
            "channels": [channel.pk for channel in step.channels.all()],
            "repeat": step.repeat,
        }
        for step in rule.escalation_policy.steps.all()
    ]


class AlertEventSerializer(serializers.ModelSerializer):
    actor = serializers.StringRelatedField(allow_null=True)  # null: the system acted

    class Meta:
        model = AlertEvent
        fields = ["kind", "at", "actor_type", "actor", "actor_name", "via", "detail"]


class AlertSerializer(serializers.ModelSerializer):
    acknowledged_by = serializers.StringRelatedField(allow_null=True)
    resolved_by = serializers.StringRelatedField(allow_null=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "alert_type",
            "severity",
            "title",
            "message",
            "metric",
            "value",
            "threshold",
            "labels",
            "status",
            "fingerprint",
            "rule",
            "component",
            "fired_at",
            "last_fired_at",
            "acknowledged_at",
            "acknowledged_by",
            "acknowledgement_note",
            "resolved_at",
            "resolved_by",
            "resolution_note",
            "action_taken",
            "occurrence_count",
            "last_value",
            "suppressed_reason",
            "escalation_level",
            "next_escalation_at",
            "incident",
        ]
        read_only_fields = fields


class AlertDetailSerializer(AlertSerializer):
    events = AlertEventSerializer(many=True, read_only=True)

    class Meta(AlertSerializer.Meta):
        fields = [*AlertSerializer.Meta.fields, "events"]
        read_only_fields = fields


class ManualAlertSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300, validators=[validate_line])
    severity = serializers.ChoiceField(choices=Severity.choices)
    message = serializers.CharField(required=False, allow_blank=True, default="", validators=[validate_text])
    fingerprint = serializers.CharField(max_length=180, required=False, validators=[validate_line])
    labels = serializers.DictField(
        child=serializers.CharField(max_length=200, validators=[validate_line]), required=False, default=dict
    )

    def validate_labels(self, labels):
        taken = sorted(set(labels) & set(BUILT_IN_LABELS))
        if taken:
            raise serializers.ValidationError(
                f"{', '.join(taken)}: built-in labels, set by Vigil from the alert itself."
            )
        return labels


class DeclareIncidentSerializer(serializers.Serializer):
    """What the incident declared from an alert says; each field left out comes from the
    template, else from the alert (its rule's name, its summary, its component)."""

    template = serializers.PrimaryKeyRelatedField(queryset=IncidentTemplate.objects.all(), required=False)
    title = serializers.CharField(max_length=200, required=False, validators=[validate_line])
    message = serializers.CharField(required=False, validators=[validate_text], help_text="Markdown.")
    status = serializers.ChoiceField(choices=OPEN_STATUS_CHOICES, required=False)
    impact_override = serializers.ChoiceField(choices=Impact.choices, required=False, allow_blank=True)
    components = AffectedComponentsField(required=False)
    notify = serializers.BooleanField(required=False)

    def validate(self, attrs):
        if isinstance(attrs.get("components"), list):
            template = attrs.get("template")
            impact = attrs.get("impact_override", template.impact_override if template else "")
            status = STATUS_OF_IMPACT[impact or Impact.NONE]
            attrs["components"] = {component: status for component in attrs["components"]}
        return attrs


class DeclaredIncidentSerializer(serializers.Serializer):
    created = serializers.BooleanField(help_text="False: the alert's open incident, declared before.")
    incident = serializers.DictField(help_text="The incident, as GET /api/status/incidents/<id> gives it.")
    alert = AlertSerializer()


class AcknowledgeSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class ResolveSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    action_taken = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class MatcherSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=100)
    op = serializers.ChoiceField(choices=OPERATORS, default="=")
    value = serializers.CharField(max_length=500, allow_blank=True)

    def validate(self, data):
        problems = matcher_problems(data)
        if problems:
            raise serializers.ValidationError({"value": problems})
        return data


class SilenceSerializer(serializers.ModelSerializer):
    matchers = MatcherSerializer(many=True)
    author = serializers.StringRelatedField(allow_null=True)
    active = serializers.SerializerMethodField()

    class Meta:
        model = Silence
        fields = ["id", "matchers", "starts_at", "ends_at", "author", "comment", "created_at", "active"]
        read_only_fields = ["author", "created_at", "active"]

    def get_active(self, silence) -> bool:
        from django.utils import timezone

        return silence.starts_at <= timezone.now() < silence.ends_at

    def validate_matchers(self, matchers):
        if not matchers:
            raise serializers.ValidationError("A silence needs at least one matcher.")
        return matchers

    def validate(self, data):
        starts = data.get("starts_at", getattr(self.instance, "starts_at", None))
        if starts and data.get("ends_at") and data["ends_at"] <= starts:
            raise serializers.ValidationError({"ends_at": ["Must be after starts_at."]})
        return data


# --- the timeline and response times (output only: the answers' schemas) -------------------


class TimelineEventSerializer(serializers.Serializer):
    # A plain string in the schema: a second enum of event kinds would collide in name with the
    # other "kind" enums (channels, deliveries).
    kind = serializers.CharField(help_text=f"One of {', '.join(AlertEvent.Kind.values)}.")
    kind_display = serializers.CharField()
    actor_type = serializers.ChoiceField(choices=AlertEvent.Actor.choices)
    actor = serializers.CharField(allow_null=True, help_text="The person's username; null: the system.")
    via = serializers.CharField(
        help_text="What the person used: api, admin, console, link...; blank if unknown."
    )
    detail = serializers.CharField(allow_blank=True)


class TimelineAttemptSerializer(serializers.Serializer):
    started_at = serializers.DateTimeField()
    duration_ms = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=DeliveryAttempt.Outcome.choices)
    status_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_blank=True)


class TimelineChannelSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class TimelineDeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    message_kind = serializers.CharField()
    subject = serializers.CharField()
    kind = serializers.CharField(help_text="The method: email, slack, webhook, sms, ...")
    channel = TimelineChannelSerializer(
        allow_null=True, help_text="Null for a recipient no channel stands for (a person)."
    )
    recipient = serializers.CharField(help_text="URLs are shown with their host only.")
    status = serializers.ChoiceField(choices=Delivery.Status.choices)
    enqueued_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True, help_text="When the provider accepted it.")
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField(
        allow_blank=True, help_text="Why it failed (or the last retry's reason)."
    )
    attempts = TimelineAttemptSerializer(many=True)


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    type = serializers.ChoiceField(choices=["event", "delivery"])
    event = TimelineEventSerializer(allow_null=True)
    delivery = TimelineDeliverySerializer(allow_null=True)


class AlertTimelineSerializer(serializers.Serializer):
    alert = AlertSerializer()
    entries = TimelineEntrySerializer(many=True)
    truncated = serializers.BooleanField(
        help_text="True: more entries follow; ask again with a larger limit."
    )


class ResponseFigureSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    mean_seconds = serializers.FloatField(allow_null=True)
    median_seconds = serializers.FloatField(allow_null=True)


class AcknowledgeFigureSerializer(ResponseFigureSerializer):
    never = serializers.IntegerField(help_text="Alerts nobody acknowledged (not counted in the mean).")


class ResolveFigureSerializer(ResponseFigureSerializer):
    unresolved = serializers.IntegerField(help_text="Alerts still open.")


class SeverityResponseTimesSerializer(serializers.Serializer):
    alerts = serializers.IntegerField()
    acknowledge = AcknowledgeFigureSerializer()
    resolve = ResolveFigureSerializer()


class BySeveritySerializer(serializers.Serializer):
    critical = SeverityResponseTimesSerializer()
    high = SeverityResponseTimesSerializer()
    medium = SeverityResponseTimesSerializer()
    low = SeverityResponseTimesSerializer()


class ResponseTimesSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    by_severity = BySeveritySerializer()
