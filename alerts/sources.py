"""Where rule values come from: monitoring's window aggregates, one query per metric name."""

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

    If a metric's query fails, only the rules reading that metric fail; the others go on."""
    values: dict[int, float | None] = {}
    failures: dict[int, Exception] = {}
    by_name: dict[str, list[AlertRule]] = {}
    for rule in rules:
        by_name.setdefault(rule.metric_name, []).append(rule)
    for group in by_name.values():
        selectors = {rule.pk: selector_for(rule) for rule in group}
        try:
            aggregates = window_aggregates(selectors.values(), now=now)
        except Exception as exc:
            failures.update({rule.pk: exc for rule in group})
            continue
        for rule in group:
            aggregate = aggregates[selectors[rule.pk]]
            if rule.aggregation == AlertRule.Aggregation.COUNT:
                values[rule.pk] = aggregate.count  # zero points is a value here, not "no data"
            elif rule.aggregation == AlertRule.Aggregation.SUM:
                values[rule.pk] = aggregate.sum or 0.0  # so is a sum: no events counted
            else:
                values[rule.pk] = None if aggregate.count == 0 else aggregate.get(rule.aggregation)
    return values, failures
