"""The escalation engine: fire an alert's policy steps while nobody acknowledges it.

A step notifies its channels, its users and whoever is on call in its schedules at the moment
it fires (oncall.resolver). Each person is reached by their own notification rules for the
alert's urgency: one Delivery per (alert, policy step firing, person, rule step), written to
the outbox with the rule step's delay as its due time. Deliveries due now are sent after
commit; the later ones wait in the outbox, where the `send_due_deliveries` sweep sends them
when due, unless an acknowledgement cancels them first (alert thread `alert:<id>`).

Why it pages once: the sweep claims due alerts with SELECT ... FOR UPDATE SKIP LOCKED and
moves each one's next_escalation_at and escalation_token in the same transaction, so a second
sweeper skips (or no longer sees) them; a redelivered single-alert task carries the token it
read, which no longer matches; and every message and delivery has a key derived from what it
is (alert, level, round, repeat, person, rule step), which the outbox's unique constraints
refuse to write twice. The sweep makes the same number of queries however many alerts are due.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from alerts.models import Alert, AlertEvent
from alerts.notify import alert_context
from core.copy_insert import copy_insert
from notifications.services import (
    Outgoing,
    Target,
    messages_enqueue_many,
    pages_cancel_pending,
    thread_people,
)
from oncall import resolver
from oncall.models import MAX_POLICY_REPEATS, MAX_STEP_REPEATS, PolicyStep, urgency_of
from oncall.people import delivery_target, sending_channels
from oncall.queries import PageStep, paging_plans, schedule_plans, user_names

INSTANT = timedelta(microseconds=1)


def alert_thread(alert: Alert) -> str:
    return f"alert:{alert.pk}"


def policy_id_of(alert: Alert) -> int | None:
    """The policy that pages for an alert: its own (a drill's, a heartbeat check's), else its
    rule's."""
    if alert.escalation_policy_id is not None:
        return alert.escalation_policy_id
    return alert.rule.escalation_policy_id if alert.rule_id else None


def first_escalation_at(policy_id: int | None, fired_at: datetime) -> datetime | None:
    if policy_id is None:
        return None
    step = PolicyStep.objects.filter(policy_id=policy_id).order_by("level").first()
    return fired_at + timedelta(minutes=step.escalate_after_minutes) if step else None


@dataclass
class _Firing:
    alert: Alert
    step: PolicyStep
    token: int  # the alert's token when the step fired: part of every key it writes


def _advance(alert: Alert, steps: list[PolicyStep], policy_repeat: int, now: datetime) -> PolicyStep | None:
    """Move the alert to the step that fires now (None: nothing left) and set its next due time."""
    rounds = min(policy_repeat, MAX_POLICY_REPEATS)
    current = next((s for s in steps if s.level == alert.escalation_level), None)
    if current is not None and alert.escalation_repeats < min(current.repeat, MAX_STEP_REPEATS):
        step = current
        alert.escalation_repeats += 1
    else:
        step = next((s for s in steps if s.level > alert.escalation_level), None)
        if step is None and steps and alert.escalation_cycle < rounds:
            alert.escalation_cycle += 1  # the policy starts again from its first step
            step = steps[0]
        if step is None:
            alert.next_escalation_at = None
            return None
        alert.escalation_level, alert.escalation_repeats = step.level, 0
    following = next((s for s in steps if s.level > step.level), None)
    if alert.escalation_repeats < min(step.repeat, MAX_STEP_REPEATS):
        alert.next_escalation_at = now + timedelta(minutes=step.escalate_after_minutes)
    elif following is not None:
        alert.next_escalation_at = now + timedelta(minutes=following.escalate_after_minutes)
    elif alert.escalation_cycle < rounds:
        alert.next_escalation_at = now + timedelta(minutes=steps[0].escalate_after_minutes)
    else:
        alert.next_escalation_at = None
    return step


def _key(*parts) -> str:
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()[:40]


def _people(step: PolicyStep, plans: dict[int, resolver.Plan], now: datetime) -> list[int]:
    """The step's users, then whoever is on call in its schedules now; each person once."""
    people = [user.pk for user in step.users.all() if user.is_active]
    for schedule in step.schedules.all():
        on_call = resolver.on_call(plans[schedule.pk], now)
        if on_call is not None:
            people.append(on_call)
    return list(dict.fromkeys(people))


def _round(alert: Alert) -> str:
    return f", round {alert.escalation_cycle + 1}" if alert.escalation_cycle else ""


@dataclass
class _Sweep:
    """What every firing of one sweep shares, read or worked out once for all of them."""

    now: datetime
    sending_channels: dict[str, int]
    contexts: dict[int, dict]  # alert_context by alert id: the same in each message about it


def _page(firing: _Firing, person: int, name: str, page: list[PageStep], sweep: _Sweep) -> Outgoing | None:
    alert, step, now = firing.alert, firing.step, sweep.now
    dedup = (
        f"alert:{alert.pk}:page:{step.level}:{alert.escalation_cycle}:{alert.escalation_repeats}:"
        f"{person}:{firing.token}"
    )
    targets = []
    for index, rule_step in enumerate(page):
        target = delivery_target(rule_step.kind, rule_step.address, sweep.sending_channels)
        if target is None:
            continue  # verified before its sender went away; never a fake page
        kind, recipient, channel_id = target
        targets.append(
            Target(
                kind=kind,
                recipient=recipient,
                channel_id=channel_id,
                key=f"pg-{_key(dedup, index, rule_step.method_id)}",
                due_at=now + timedelta(minutes=rule_step.delay_minutes),
                person_id=person,
                context={"person": name, "delay_minutes": rule_step.delay_minutes},
            )
        )
    if not targets:
        return None
    return Outgoing(
        kind="alert.page",
        subject=f"[PAGE L{step.level}] {alert.title}",
        severity=alert.severity,
        dedup_key=dedup,
        template="alert",
        context={
            "state": "escalated",
            "level": step.level,
            "alerts": [sweep.contexts[alert.pk]],
            "person": name,
        },
        thread=alert_thread(alert),
        targets=tuple(targets),
    )


EVENT_COLUMNS = ("alert_id", "kind", "at", "actor_id", "detail")


def _announce(firings: list[_Firing], now: datetime) -> None:
    # Many alerts share a policy, so its steps, the people they page and the channels they
    # notify are worked out once per step (and severity), not once per alert.
    steps = {f.step.pk: f.step for f in firings}
    schedules = {s.pk: s for step in steps.values() for s in step.schedules.all()}
    plans = schedule_plans(schedules.values(), start=now, end=now + INSTANT) if schedules else {}
    people = {pk: _people(step, plans, now) for pk, step in steps.items()}
    everyone = {pk for ids in people.values() for pk in ids}
    reach = paging_plans(everyone) if everyone else {}
    names = user_names(everyone)
    sweep = _Sweep(now, sending_channels(), {f.alert.pk: alert_context(f.alert) for f in firings})
    admitted: dict[tuple[int, str], tuple] = {}
    outgoing: list[Outgoing] = []
    events: list[tuple] = []
    for firing in firings:
        alert, step = firing.alert, firing.step
        if (step.pk, alert.severity) not in admitted:
            admitted[step.pk, alert.severity] = tuple(
                c for c in step.channels.all() if c.enabled and c.admits(alert.severity)
            )
        channels = admitted[step.pk, alert.severity]
        suffix = f":c{alert.escalation_cycle}" if alert.escalation_cycle else ""
        outgoing.append(
            Outgoing(
                kind="alert.escalated",
                subject=f"[ESCALATED L{step.level}] {alert.title}",
                severity=alert.severity,
                dedup_key=f"alert:{alert.pk}:escalation:{step.level}:{alert.escalation_repeats}:{firing.token}{suffix}",
                template="alert",
                context={"state": "escalated", "level": step.level, "alerts": [sweep.contexts[alert.pk]]},
                thread=alert_thread(alert),
                channels=channels,
            )
        )
        events += [
            (alert.pk, AlertEvent.Kind.NOTIFIED, now, None, f"escalation level {step.level} via {c}")
            for c in channels
        ]
        urgency = urgency_of(alert.severity)
        for person in people[step.pk]:
            name = names.get(person, f"user {person}")
            page = reach.get(person, {}).get(urgency, [])
            message = _page(firing, person, name, page, sweep)
            if message is None:
                detail = f"{name} not paged at level {step.level}: no verified method for {urgency} urgency"
            else:
                outgoing.append(message)
                detail = f"{name} at level {step.level}{_round(alert)}: " + "; ".join(
                    f"{s.kind} {s.address} at +{s.delay_minutes} min" for s in page
                )
            events.append((alert.pk, AlertEvent.Kind.PAGED, now, person, detail))
        events.append(
            (
                alert.pk,
                AlertEvent.Kind.ESCALATED,
                now,
                None,
                f"level {step.level}"
                + (f", repeat {alert.escalation_repeats}" if alert.escalation_repeats else "")
                + _round(alert),
            )
        )
    messages_enqueue_many(outgoing)
    # Several thousand rows a sweep: a COPY, not one model instance and quoted parameters each.
    copy_insert(
        AlertEvent,
        EVENT_COLUMNS,
        events,
        constants={"actor_type": AlertEvent.Actor.SYSTEM, "actor_name": "", "via": ""},
    )


STATE = ("escalation_level", "escalation_repeats", "escalation_cycle", "next_escalation_at")


def _save_states(alerts: list[Alert]) -> None:
    """One UPDATE per distinct new state: alerts at the same step of the same policy share one,
    so the count follows the policies' steps, not the alerts (bulk_update's CASE per row grows
    with both the rows and the statement). Every claimed alert's token moves on by one."""
    groups: dict[tuple, list[int]] = {}
    for alert in alerts:
        groups.setdefault(tuple(getattr(alert, name) for name in STATE), []).append(alert.pk)
    for state, ids in groups.items():
        Alert.objects.filter(pk__in=ids).update(
            **dict(zip(STATE, state, strict=True)), escalation_token=F("escalation_token") + 1
        )


def _escalate_locked(alerts: list[Alert], now: datetime) -> int:
    """Fire the due step of each alert (locked by the caller, checked due and firing)."""
    policy_ids = {policy_id_of(a) for a in alerts} - {None}
    steps: dict[int, list[PolicyStep]] = {}
    rows = (
        PolicyStep.objects.filter(policy__in=policy_ids)
        .select_related("policy")
        .prefetch_related("users", "schedules", "channels")
        .order_by("level")
    )
    for row in rows if policy_ids else ():
        steps.setdefault(row.policy_id, []).append(row)
    firings = []
    for alert in alerts:
        own = steps.get(policy_id_of(alert), [])
        step = _advance(alert, own, own[0].policy.repeat if own else 0, now)
        if step is not None:
            firings.append(_Firing(alert, step, alert.escalation_token))
        alert.escalation_token += 1
    if firings:
        _announce(firings, now)
    _save_states(alerts)
    return len(firings)


def alert_escalate(*, alert_id: int, token: int, now: datetime | None = None) -> bool:
    """Run one due escalation of an alert. Returns False (doing nothing) if the alert changed
    since the caller read it (token), is no longer firing, or is not yet due: a duplicate or
    redelivered run, or one that lost the race to an acknowledgement."""
    now = now or timezone.now()
    with transaction.atomic():
        alert = (
            Alert.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("rule")
            .filter(pk=alert_id)
            .first()
        )
        if (
            alert is None
            or alert.escalation_token != token
            or alert.status != Alert.Status.FIRING
            or alert.next_escalation_at is None
            or alert.next_escalation_at > now
        ):
            return False
        return _escalate_locked([alert], now) > 0


def alerts_escalate_due(*, now: datetime | None = None, limit: int = 1000) -> int:
    """The sweeper: fire the due step of every due alert, in one transaction and a fixed number
    of queries. Safe with several sweepers at once: each claims its alerts with SKIP LOCKED."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Alert.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Alert.Status.FIRING, next_escalation_at__lte=now)
            .select_related("rule")
            .order_by("next_escalation_at", "pk")[:limit]
        )
        return _escalate_locked(due, now) if due else 0


def alert_pages_stop(alert: Alert, *, reason: str) -> int:
    """Cancel the alert's pages still waiting in the outbox."""
    return pages_cancel_pending(thread=alert_thread(alert), reason=reason)


def alert_pages_resolved(alert: Alert, *, now: datetime) -> int:
    """Tell every person the alert paged that it is resolved: once each, on the method that
    reached them first."""
    people = thread_people(thread=alert_thread(alert))
    names = user_names(people)
    context = {"state": "resolved", "alerts": [alert_context(alert)]}
    outgoing = [
        Outgoing(
            kind="alert.page-resolved",
            subject=f"[RESOLVED] {alert.title}",
            severity=alert.severity,
            dedup_key=f"alert:{alert.pk}:page-resolved:{person}:{alert.escalation_token}",
            template="alert",
            context={**context, "person": names.get(person, "")},
            thread=f"{alert_thread(alert)}:resolved",
            targets=(
                Target(
                    kind=kind,
                    recipient=recipient,
                    key=f"pr-{_key(alert.pk, person, alert.escalation_token)}",
                    person_id=person,
                ),
            ),
        )
        for person, (kind, recipient) in people.items()
    ]
    return messages_enqueue_many(outgoing)
