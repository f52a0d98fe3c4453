"""Rules on visitors' trouble reports (statuspage.visitor_reports): evaluated per component, and
only while the status page says that component is fine.

A visitor's report matters most when nothing else has noticed: a component the probes call
operational that visitors cannot use. So for a rule on this metric, each tick and for each
component label with reports in the rule's window:

- the value is the sum of the reports about that component over the last `window_minutes`
  (the rows' values; one row per process, component, problem and flush interval);
- the condition is `value <operator> threshold` AND the component's status is `operational`
  at the time of the tick: the status the page shows, which the probes set (unless staff hold
  it, an incident sets it, or maintenance does: then it is not operational, or someone knows);
- for "something else" (label OTHER) the second half is: every component is operational.

A component whose condition holds gets an alert of its own (fingerprint `rule:<id>:<label>`,
linked to the component, so its maintenance and silences apply); it resolves at the first tick
the condition no longer holds: the reports fell below the threshold, or the status left
operational (the probes, staff or an incident have it now). The rule's own state shows firing
while any of them is open, and its last value is the highest count. `duration_minutes` and
`keep_firing_for_minutes` are not used, nor are the selector's tags, source and endpoint.

Safe with two evaluators: the rule's row is taken with select_for_update(skip_locked=True), so
a second evaluator skips it for this tick; alert_raise deduplicates by fingerprint anyway.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from alerts.models import Alert, AlertEvent, AlertRule
from alerts.services import AlertTransitionError, alert_raise, alert_resolve
from statuspage.models import Component, ComponentStatus
from statuspage.visitor_reports import METRIC_NAME, OTHER, visitor_report_counts_last


def is_visitor_rule(rule: AlertRule) -> bool:
    return rule.metric_name == METRIC_NAME


def _holding(rule: AlertRule, counts: dict[str, int]) -> dict[str, tuple[Component | None, int]]:
    """label -> (component, reports) for each label whose condition holds now."""
    ids = [int(label) for label in counts if label.isdigit()]
    components = {str(c.pk): c for c in Component.objects.filter(pk__in=ids)}
    all_operational = not Component.objects.exclude(status=ComponentStatus.OPERATIONAL).exists()
    holding = {}
    for label, reports in counts.items():
        component = components.get(label)
        if label == OTHER:
            fine = all_operational
        elif component is not None:
            fine = component.status == ComponentStatus.OPERATIONAL
        else:
            continue  # a component deleted since
        if fine and rule.condition_holds(reports):
            holding[label] = (component, reports)
    return holding


def _raise(rule: AlertRule, label: str, component: Component | None, reports: int, now: datetime) -> bool:
    about = component.name if component is not None else "something else"
    return alert_raise(
        fingerprint=f"{rule.fingerprint()}:{label}",
        title=f"{rule.name}: {about}",
        severity=rule.severity,
        alert_type=Alert.Type.METRIC,
        message=(
            f"{reports} visitor report(s) about {about} in the last {rule.window_minutes} min "
            f"(threshold {rule.operator} {rule.threshold:g}) while the status page shows it operational"
        ),
        metric=METRIC_NAME,
        value=reports,
        threshold=rule.threshold,
        labels={"component": label},
        rule=rule,
        component=component,
        now=now,
    ).created


def visitor_rule_evaluate(rule_id: int, *, now: datetime | None = None) -> tuple[int, int, bool]:
    """One tick of one visitor-report rule; returns (fired, resolved, skipped)."""
    now = now or timezone.now()
    fired = resolved = 0
    with transaction.atomic():
        rule = AlertRule.objects.select_for_update(skip_locked=True).filter(pk=rule_id).first()
        if rule is None:
            return 0, 0, True  # another evaluator has it this tick
        counts = visitor_report_counts_last(minutes=rule.window_minutes, now=now)
        holding = _holding(rule, counts)
        prefix = f"{rule.fingerprint()}:"
        open_alerts = {
            alert.fingerprint.removeprefix(prefix): alert
            for alert in Alert.objects.open().filter(rule=rule, fingerprint__startswith=prefix)
        }
        for label, (component, reports) in holding.items():
            alert = open_alerts.get(label)
            if alert is None:
                fired += int(_raise(rule, label, component, reports, now))
            else:
                Alert.objects.filter(pk=alert.pk).update(last_value=reports)
        for label, alert in open_alerts.items():
            if label in holding:
                continue
            try:
                alert_resolve(
                    alert=alert, note="condition cleared", actor_type=AlertEvent.Actor.RULE, now=now
                )
            except AlertTransitionError:
                continue  # resolved by hand meanwhile
            resolved += 1
        firing = bool(holding)
        if firing and rule.state != AlertRule.State.FIRING:
            rule.firing_since = now
        rule.state = AlertRule.State.FIRING if firing else AlertRule.State.OK
        rule.firing_since = rule.firing_since if firing else None
        rule.pending_since = None
        rule.last_value = float(max(counts.values(), default=0))
        rule.last_evaluated_at, rule.last_error = now, ""
        rule.save(
            update_fields=[
                "state",
                "firing_since",
                "pending_since",
                "last_value",
                "last_evaluated_at",
                "last_error",
            ]
        )
    return fired, resolved, False
