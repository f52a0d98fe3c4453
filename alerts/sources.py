"""Where rule values come from: monitoring's window aggregates, read for every rule at once."""

from datetime import datetime, timedelta

from alerts.models import AlertRule
from monitoring.queries import Selector, window_aggregates


def selector_for(rule: AlertRule) -> Selector:
    return Selector(
        name=rule.metric_name,
        window=timedelta(minutes=rule.window_minutes),
        metric_type=rule.metric_type,
        category=rule.category,
        source=rule.source,
        endpoint=rule.endpoint,
        tags=tuple(sorted((str(k), str(v)) for k, v in (rule.tags or {}).items())),
    )


def rule_values(
    rules: list[AlertRule], now: datetime
) -> tuple[dict[int, float | None], dict[int, Exception]]:
    """Each rule's aggregate over its window (None: no points), and the rules that failed.

    Every rule is read at once. If that fails, each metric is read on its own, so only the rules
    reading a metric whose query fails fail; the others go on."""
    values: dict[int, float | None] = {}
    failures: dict[int, Exception] = {}
    selectors = {rule.pk: selector_for(rule) for rule in rules}
    try:
        groups = [(rules, window_aggregates(selectors.values(), now=now))]
    except Exception:
        groups = _read_each_metric_alone(rules, selectors, now, failures)
    for group, aggregates in groups:
        for rule in group:
            values[rule.pk] = _rule_value(rule, aggregates[selectors[rule.pk]])
    return values, failures


def _read_each_metric_alone(rules, selectors, now, failures):
    by_name: dict[str, list[AlertRule]] = {}
    for rule in rules:
        by_name.setdefault(rule.metric_name, []).append(rule)
    groups = []
    for group in by_name.values():
        try:
            groups.append((group, window_aggregates([selectors[rule.pk] for rule in group], now=now)))
        except Exception as exc:
            failures.update({rule.pk: exc for rule in group})
    return groups


def _rule_value(rule: AlertRule, aggregate) -> float | None:
    if rule.aggregation == AlertRule.Aggregation.COUNT:
        return aggregate.count  # zero points is a value here, not "no data"
    if rule.aggregation == AlertRule.Aggregation.SUM:
        return aggregate.sum or 0.0  # so is a sum: no events counted
    return None if aggregate.count == 0 else aggregate.get(rule.aggregation)
