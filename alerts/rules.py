"""Saving and removing alert rules outside the rule API's serializer: configuration as code
(config.configcode) writes rules here, with the same checks the API makes."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from alerts.models import AlertRule

# The rule's evaluation state belongs to the evaluator; a configuration never sets it.
RULE_FIELDS = frozenset(
    f.name
    for f in AlertRule._meta.concrete_fields
    if f.name not in (*AlertRule.EVALUATION_FIELDS, "id", "created_at", "updated_at")
)


# The API serializer's bounds (alerts.serializers.AlertRuleSerializer): minutes within a day.
MINUTE_BOUNDS = {
    "window_minutes": (1, 24 * 60),
    "duration_minutes": (0, 24 * 60),
    "keep_firing_for_minutes": (0, 24 * 60),
}


def alert_rule_check(rule: AlertRule) -> None:
    """The model's checks and the API's own: a rule watches a metric name or a category, over
    windows of at most a day."""
    rule.full_clean(exclude=[*AlertRule.EVALUATION_FIELDS, "channels"], validate_unique=False)
    problems = {}
    if not rule.metric_name and not rule.category:
        problems["metric_name"] = ["Give a metric name or a category to watch."]
    for name, (low, high) in MINUTE_BOUNDS.items():
        if not low <= getattr(rule, name) <= high:
            problems[name] = [f"Between {low} and {high} minutes."]
    if problems:
        raise ValidationError(problems)


def alert_rule_save(*, rule: AlertRule, channels: Iterable | None = None, **fields) -> AlertRule:
    """Create or change a rule; `channels`, when given, replace its channels. A changed rule
    keeps its evaluation state: the next tick judges it by the new condition."""
    unknown = set(fields) - RULE_FIELDS
    if unknown:
        raise ValueError(f"not a rule field: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(rule, name, value)
    alert_rule_check(rule)
    with transaction.atomic():
        rule.save()
        if channels is not None:
            rule.channels.set(list(channels))
    return rule


def alert_rule_delete(*, rule: AlertRule) -> None:
    """Its alerts stay, without a rule (the foreign key is SET_NULL), as the record of what fired."""
    rule.delete()
