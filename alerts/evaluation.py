"""One evaluation tick: read every enabled rule's aggregate in one query, then move each
rule's state (ok → pending → firing → ok) and raise or resolve its alert.

A rule that fails records its error and raises a meta-alert; it never stops the tick.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from alerts.models import Alert, AlertEvent, AlertRule
from alerts.notify import alerts_pending_announce, announcements_batched, rule_flapping_announce
from alerts.services import alert_raise, alert_resolve
from alerts.sources import rule_values
from alerts.visitor_reports import is_visitor_rule, visitor_rule_evaluate

logger = logging.getLogger(__name__)


@dataclass
class TickSummary:
    rules: int = 0
    fired: int = 0
    resolved: int = 0
    errors: int = 0
    queries: int = 0
    skipped: int = 0
    notified: int = 0
    details: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"evaluated {self.rules} rules: {self.fired} fired, {self.resolved} resolved, "
            f"{self.errors} errors, {self.skipped} skipped (busy), {self.notified} notifications"
        )


FIRE, RESOLVE, REFRESH, NOTHING = "fire", "resolve", "refresh", "nothing"


def _record_transition(rule: AlertRule, now: datetime) -> None:
    """Keep the recent state changes, and mark the rule flapping when they are too many."""
    window = timedelta(minutes=settings.ALERT_FLAP_WINDOW_MINUTES)
    recent = [t for t in rule.recent_transitions if datetime.fromisoformat(t) > now - window]
    rule.recent_transitions = [*recent, now.isoformat()][-50:]
    rule.flapping = len(rule.recent_transitions) >= settings.ALERT_FLAP_THRESHOLD


def next_state(rule: AlertRule, value: float | None, now: datetime) -> str:
    """Move one rule's state for the value just read (None: no data in the window) and say
    what to do with its alert. Row-local: touches only the rule's own fields."""
    if value is None:
        if rule.no_data == AlertRule.NoData.KEEP_LAST:
            return NOTHING
        holds = rule.no_data == AlertRule.NoData.ALERTING
    else:
        holds = rule.condition_holds(value)
    state = AlertRule.State
    if holds:
        rule.condition_cleared_at = None
        if rule.state == state.OK:
            rule.state, rule.pending_since = state.PENDING, now
            _record_transition(rule, now)
        if rule.state == state.PENDING and rule.pending_long_enough(now):
            rule.state, rule.firing_since = state.FIRING, now
            _record_transition(rule, now)
            return FIRE
        return REFRESH if rule.state == state.FIRING else NOTHING
    if rule.state == state.PENDING:
        rule.state, rule.pending_since = state.OK, None
        _record_transition(rule, now)
    elif rule.state == state.FIRING:
        rule.condition_cleared_at = rule.condition_cleared_at or now
        if rule.kept_firing_long_enough(now):
            rule.state, rule.firing_since, rule.pending_since = state.OK, None, None
            rule.condition_cleared_at = None
            _record_transition(rule, now)
            return RESOLVE
    return NOTHING


def _fire(rule: AlertRule, value: float | None, now: datetime) -> bool:
    shown = "no data" if value is None else f"{value:g}"
    raised = alert_raise(
        fingerprint=rule.fingerprint(),
        title=rule.name,
        severity=rule.severity,
        alert_type=Alert.Type.METRIC,
        message=f"{rule.describe_condition()} (value {shown})",
        metric=rule.metric_name or rule.category,
        value=value,
        threshold=rule.threshold,
        labels={"source": rule.source, "endpoint": rule.endpoint, **(rule.tags or {})},
        rule=rule,
        component=rule.component,
        now=now,
    )
    return raised.created


def evaluate_rule(rule: AlertRule, value: float | None, now: datetime, summary: TickSummary) -> None:
    was_flapping = rule.flapping
    action = next_state(rule, value, now)
    rule.last_evaluated_at, rule.last_value, rule.last_error = now, value, ""
    rule.save()
    open_alert = Alert.objects.filter(fingerprint=rule.fingerprint()).open().first()
    if action == FIRE or (action == REFRESH and open_alert is None):
        # A firing rule whose alert someone resolved by hand fires again: the condition still holds.
        summary.fired += int(_fire(rule, value, now))
    elif action == REFRESH:
        Alert.objects.filter(pk=open_alert.pk).update(last_value=value)
    elif action == RESOLVE and open_alert is not None:
        alert_resolve(alert=open_alert, note="condition cleared", actor_type=AlertEvent.Actor.RULE, now=now)
        summary.resolved += 1
    if rule.flapping and not was_flapping:
        rule_flapping_announce(rule, now=now)


def _state_of(rule: AlertRule) -> tuple:
    return tuple(getattr(rule, name) for name in AlertRule.STATE_FIELDS)


def _evaluate_locked(rule_id: int, value: float | None, now: datetime, summary: TickSummary) -> None:
    """Apply a state change under the rule's row lock; a rule another evaluator holds is skipped
    (it is being evaluated right now with the same data)."""
    with transaction.atomic():
        rule = AlertRule.objects.select_for_update(skip_locked=True).filter(pk=rule_id).first()
        if rule is None:
            summary.skipped += 1
            return
        evaluate_rule(rule, value, now, summary)


def database_unavailable(exc: BaseException) -> bool:
    """A lost, refused or exhausted database connection (PostgreSQL restarting, a failover, a
    proxy dropping connections): not the rule's fault. SQLSTATE classes 08 (connection), 53
    (insufficient resources) and 57P (server shutting down); no SQLSTATE at all means the client
    lost the server (or SQLite's file is locked)."""
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(("08", "53", "57P"))


def _record_failure(rule: AlertRule, exc: Exception, now: datetime) -> None:
    message = f"{type(exc).__name__}: {exc}"[:1000]
    AlertRule.objects.filter(pk=rule.pk).update(last_error=message, last_evaluated_at=now)
    alert_raise(
        fingerprint=f"meta:rule:{rule.pk}",
        title=f"Alert rule '{rule.name}' cannot be evaluated",
        severity="high",
        alert_type=Alert.Type.META,
        message=message,
        actor_type=AlertEvent.Actor.SYSTEM,
        now=now,
    )


def evaluate_rules(*, now: datetime | None = None) -> TickSummary:
    """One tick over every enabled rule. Safe with several evaluators at once: state changes
    happen under a row lock, and alerts are deduplicated by their fingerprint constraint.

    What fired or resolved in the tick is announced at its end, grouped, here and now (not from
    a task per alert, which could split one storm into many messages)."""
    now = now or timezone.now()
    with announcements_batched() as batch:
        summary = _evaluate_all(now)
        summary.notified = alerts_pending_announce(now=now)
        batch.pending = False
    return summary


def _evaluate_all(now: datetime) -> TickSummary:
    summary = TickSummary()
    rules = list(AlertRule.objects.filter(enabled=True).select_related("component"))
    summary.rules = len(rules)
    # Rules on visitors' reports are evaluated per component (alerts/visitor_reports.py).
    visitor_rules = [rule for rule in rules if is_visitor_rule(rule)]
    rules = [rule for rule in rules if not is_visitor_rule(rule)]
    values, failures = rule_values(rules, now)
    quiet: list[AlertRule] = []
    moved: list[tuple[AlertRule, str]] = []
    refresh: dict[int, float] = {}
    for rule in rules:
        if rule.pk in failures:
            if database_unavailable(failures[rule.pk]):
                # Blaming every rule (one meta-alert each, never resolved by itself) for a database
                # restart would page staff about rules that are fine: stop; the next tick retries.
                raise failures[rule.pk]
            summary.errors += 1
            _record_failure(rule, failures[rule.pk], now)
            continue
        value = values.get(rule.pk)
        before, was_flapping = _state_of(rule), rule.flapping
        action = next_state(rule, value, now)
        if action in (NOTHING, REFRESH) and _state_of(rule) == before:
            rule.last_evaluated_at, rule.last_value, rule.last_error = now, value, ""
            quiet.append(rule)
            if action == REFRESH and value is not None:
                refresh[rule.pk] = value
            continue
        if action == NOTHING and (was_flapping or not rule.flapping):
            # Only the rule's own state moved (ok ↔ pending, a firing rule's clear timer): no
            # alert to raise or resolve and nothing to announce, so it is written in the batch.
            rule.last_evaluated_at, rule.last_value, rule.last_error = now, value, ""
            moved.append((rule, before[0]))
            continue
        try:
            _evaluate_locked(rule.pk, value, now, summary)
        except Exception as exc:
            if database_unavailable(exc):
                raise  # as above: the rule is fine; its state change rolled back, the next tick redoes it
            logger.exception("alert rule %s failed", rule.pk)
            summary.errors += 1
            _record_failure(rule, exc, now)
    _record_quiet_rules(quiet, now)
    _record_state_moves(moved, now)
    if refresh:
        _refresh_open_alerts(refresh, now, summary)
    for rule in visitor_rules:
        _evaluate_visitor_rule(rule, now, summary)
    return summary


def _evaluate_visitor_rule(rule: AlertRule, now: datetime, summary: TickSummary) -> None:
    try:
        fired, resolved, skipped = visitor_rule_evaluate(rule.pk, now=now)
    except Exception as exc:
        if database_unavailable(exc):
            raise
        logger.exception("alert rule %s failed", rule.pk)
        summary.errors += 1
        _record_failure(rule, exc, now)
        return
    summary.fired += fired
    summary.resolved += resolved
    summary.skipped += int(skipped)


def _record_quiet_rules(rules: list[AlertRule], now: datetime) -> None:
    """Store the value read for rules whose state did not change: one batched statement
    (executemany; pipelined on PostgreSQL), since ORM bulk_update spends most of a 1,000-rule
    tick building CASE expressions in Python."""
    if not rules:
        return
    table = connection.ops.quote_name(AlertRule._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET last_value = %s, last_evaluated_at = %s, last_error = '' WHERE id = %s",
            [(rule.last_value, now, rule.pk) for rule in rules],
        )


def _record_state_moves(moves: list[tuple[AlertRule, str]], now: datetime) -> None:
    """Write the rules whose state moved without touching an alert, in one batched statement.
    Each row is written only if its state is still the one this tick read (compare and set):
    a concurrent evaluator that moved it first wins, and this tick's write to it is dropped,
    which is what the row lock and skip of the one-by-one path would have done."""
    if not moves:
        return
    table = connection.ops.quote_name(AlertRule._meta.db_table)
    columns = (*AlertRule.STATE_FIELDS, "last_value", "last_evaluated_at")
    fields = [AlertRule._meta.get_field(name) for name in columns]
    assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
    rows = [
        (*(f.get_db_prep_save(getattr(rule, f.attname), connection) for f in fields), rule.pk, old_state)
        for rule, old_state in moves
    ]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET {assignments}, last_error = '' WHERE id = %s AND state = %s", rows
        )


def _refresh_open_alerts(values: dict[int, float], now: datetime, summary: TickSummary) -> None:
    """Firing rules keep their open alert's last value current (one UPDATE for all); a firing
    rule whose alert was resolved by hand fires again, since its condition still holds."""
    from django.db.models import Case, FloatField, Value, When

    open_by_rule = dict(
        Alert.objects.open()
        .filter(rule_id__in=values, alert_type=Alert.Type.METRIC)
        .values_list("rule_id", "pk")
    )
    if open_by_rule:
        Alert.objects.filter(pk__in=open_by_rule.values()).update(
            last_value=Case(
                *(When(pk=pk, then=Value(values[rule_id])) for rule_id, pk in open_by_rule.items()),
                output_field=FloatField(),
            )
        )
    for rule_id in set(values) - set(open_by_rule):
        _evaluate_locked(rule_id, values[rule_id], now, summary)
