from datetime import timedelta

import factory
from django.utils import timezone

from alerts.models import Alert, AlertRule, Silence
from monitoring.models import Metric
from notifications.models import Channel


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    name = factory.Sequence(lambda n: f"on-call {n}")
    kind = Channel.Kind.DASHBOARD
    enabled = True


class AlertRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AlertRule

    name = factory.Sequence(lambda n: f"rule {n}")
    metric_name = "cpu.percent"
    metric_type = "system"
    aggregation = AlertRule.Aggregation.AVG
    window_minutes = 1
    operator = AlertRule.Operator.GT
    threshold = 90
    duration_minutes = 0
    severity = "high"


class AlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alert

    title = factory.Sequence(lambda n: f"alert {n}")
    fingerprint = factory.Sequence(lambda n: f"test:{n}")
    severity = "high"


class SilenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Silence

    matchers = factory.LazyFunction(lambda: [{"label": "severity", "op": "=", "value": "high"}])
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=1))
    ends_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=1))


def point(value: float, *, at=None, name: str = "cpu.percent", **fields) -> Metric:
    fields.setdefault("metric_type", "system")
    fields.setdefault("category", "cpu_usage")
    return Metric.objects.create(name=name, value=value, timestamp=at or timezone.now(), **fields)


def escalation_step(rule: AlertRule, *, level: int, escalate_after_minutes: int, repeat: int = 0, **targets):
    """A step of the rule's own escalation policy (made on first use, named after the rule);
    `targets`: channels, users, schedules (lists)."""
    from oncall.models import EscalationPolicy, PolicyStep

    if rule.escalation_policy_id is None:
        rule.escalation_policy = EscalationPolicy.objects.create(name=rule.name)
        rule.save(update_fields=["escalation_policy"])
    step = PolicyStep.objects.create(
        policy=rule.escalation_policy,
        level=level,
        escalate_after_minutes=escalate_after_minutes,
        repeat=repeat,
    )
    for name, items in targets.items():
        getattr(step, name).set(items)
    return step
