"""Paging drills: rehearse an escalation policy end to end, and the only writer of PagingDrill.

A drill is a clearly marked critical alert that belongs to the policy (Alert.escalation_policy),
so it pages along the real path: the policy's steps, whoever is on call in their schedules when
each step fires, each person's own high-urgency rules and verified contact methods, the outbox
and the providers. It is never announced to the channels (only the policy's steps reach
anyone) and does not count towards response times.

Each hop is recorded where it happens anyway: the outbox's deliveries say when each page was
enqueued and when the provider accepted it; the alert's events say who acknowledged, when and
how (a mail's action link, Slack, a voice call's key press). `drills_settle` (the beat job
`run_paging_drills`, every minute) closes each drill: acknowledged, or - nobody answered by the
time the policy ran out - missed, which raises a real alert, since a real page would have gone
unanswered the same way. The same job starts each policy's weekly drill; the (policy, slot)
unique constraint makes a second worker or a redelivered task start it once.
"""

import contextlib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from alerts.escalation import alert_escalate
from alerts.models import Alert, AlertEvent, PagingDrill, Severity
from alerts.services import AlertTransitionError, alert_raise, alert_resolve
from alerts.timeline import alert_deliveries
from oncall.models import EscalationPolicy
from oncall.policies import policy_answer_time

# A weekly slot missed by more than this (beat was down) is skipped: a drill at an unexpected
# hour surprises the people it pages.
SLOT_GRACE = timedelta(hours=1)
PAGE_KINDS = ("alert.page", "alert.escalated")
# A person in the console, behind an action link, or pressing a key on a voice call.
ANSWERING_ACTORS = (AlertEvent.Actor.USER, AlertEvent.Actor.CHANNEL)


class DrillError(ValueError):
    """A drill that cannot start; the message says why."""


def _drill_alert(drill: PagingDrill, policy: EscalationPolicy, who: str, now: datetime) -> Alert:
    alert = Alert.objects.create(
        fingerprint=f"drill:{drill.pk}",
        title=f"[DRILL] Paging drill of {policy.name}: please acknowledge",
        severity=Severity.CRITICAL,
        alert_type=Alert.Type.DRILL,
        message=(
            f"This is a paging drill of the escalation policy {policy.name}, started by {who}. "
            "Nothing is broken. Acknowledge it as you would a real page, through the link or the "
            "button in this message, to show the path to you works."
        ),
        labels={"drill": str(drill.pk), "policy": policy.name},
        escalation_policy=policy,
        fired_at=now,
        last_fired_at=now,
        next_escalation_at=now,
        # Marked as announced, firing and resolved: a drill travels its policy alone and never
        # reaches the channels every alert goes to.
        notified_at=now,
        resolution_notified_at=now,
    )
    AlertEvent.objects.create(
        alert=alert, kind=AlertEvent.Kind.FIRED, at=now, detail=f"paging drill started by {who}"
    )
    return alert


def drill_start(
    *,
    policy: EscalationPolicy,
    user=None,
    scheduled_for: datetime | None = None,
    now: datetime | None = None,
) -> PagingDrill | None:
    """Start a drill of `policy` and fire its first step at once. Returns None when the weekly
    slot `scheduled_for` has its drill already (another worker started it)."""
    now = now or timezone.now()
    if not policy.steps.exists():
        raise DrillError(f"The policy {policy.name} has no steps: a drill would page nobody.")
    who = user.get_username() if user is not None else "the weekly drill schedule"
    with transaction.atomic():
        try:
            with transaction.atomic():
                drill = PagingDrill.objects.create(
                    policy=policy,
                    started_by=user,
                    scheduled_for=scheduled_for,
                    started_at=now,
                    answer_by=now + policy_answer_time(policy),
                )
        except IntegrityError:
            return None
        drill.alert = _drill_alert(drill, policy, who, now)
        drill.save(update_fields=["alert"])
        alert_escalate(alert_id=drill.alert.pk, token=drill.alert.escalation_token, now=now)
    return drill


def weekly_slot(policy: EscalationPolicy, now: datetime) -> datetime | None:
    """The latest weekly drill time of a policy at or before `now`, or None (no weekly drill)."""
    if policy.drill_weekday is None:
        return None
    zone = ZoneInfo(policy.drill_time_zone)
    local = now.astimezone(zone)
    day = local.date() - timedelta(days=(local.weekday() - policy.drill_weekday) % 7)
    slot = datetime.combine(day, policy.drill_time, tzinfo=zone)
    if slot > now:
        slot = datetime.combine(day - timedelta(days=7), policy.drill_time, tzinfo=zone)
    return slot.astimezone(UTC)


def drills_start_due(*, now: datetime | None = None) -> int:
    """Start the weekly drill of every policy whose slot has come (within SLOT_GRACE)."""
    now = now or timezone.now()
    started = 0
    for policy in EscalationPolicy.objects.filter(drill_weekday__isnull=False):
        slot = weekly_slot(policy, now)
        if slot is None or slot < policy.created_at or now - slot > SLOT_GRACE:
            continue
        if PagingDrill.objects.filter(policy=policy, scheduled_for=slot).exists():
            continue
        try:
            started += drill_start(policy=policy, scheduled_for=slot, now=now) is not None
        except DrillError:
            continue  # a policy without steps: check_oncall reports it
    return started


def _answer(alert: Alert | None) -> AlertEvent | None:
    """The first time a person acknowledged or resolved the drill's alert."""
    if alert is None:
        return None
    return (
        alert.events.filter(kind__in=(AlertEvent.Kind.ACKNOWLEDGED, AlertEvent.Kind.RESOLVED))
        .filter(Q(actor_type__in=ANSWERING_ACTORS) | Q(actor__isnull=False))
        .select_related("actor")
        .order_by("at", "pk")
        .first()
    )


def _close_alert(alert: Alert | None, note: str, now: datetime) -> None:
    if alert is None or alert.status == Alert.Status.RESOLVED:
        return
    with contextlib.suppress(AlertTransitionError):  # resolved meanwhile: closed either way
        alert_resolve(alert=alert, note=note, actor_type=AlertEvent.Actor.SYSTEM, now=now)


def _missed(drill: PagingDrill, now: datetime) -> Alert:
    hops = drill_hops(drill)
    sent = sum(1 for hop in hops if hop["accepted_at"])
    return alert_raise(
        fingerprint=f"drill-missed:{drill.policy_id}",
        title=f"Paging drill of {drill.policy.name} was not acknowledged",
        severity=Severity.HIGH,
        alert_type=Alert.Type.META,
        message=(
            f"The drill started {drill.started_at:%Y-%m-%d %H:%M} UTC paged {len(hops)} time(s) "
            f"({sent} accepted by the provider) and nobody acknowledged it by "
            f"{drill.answer_by:%H:%M} UTC: a real page through this policy would have gone unanswered. "
            "See the drill's hops in the console."
        ),
        labels={"policy": drill.policy.name},
        actor_type=AlertEvent.Actor.SYSTEM,
        now=now,
    ).alert


def drills_settle(*, now: datetime | None = None) -> dict[str, int]:
    """Close every pending drill that was answered, or whose time is up. Safe with several
    workers: each claims its drills with SKIP LOCKED."""
    now = now or timezone.now()
    settled = {"acknowledged": 0, "missed": 0}
    with transaction.atomic():
        pending = list(
            PagingDrill.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(outcome=PagingDrill.Outcome.PENDING)
            .select_related("alert", "policy")
        )
        for drill in pending:
            answer = _answer(drill.alert)
            if answer is not None:
                drill.outcome = PagingDrill.Outcome.ACKNOWLEDGED
                drill.acknowledged_at, drill.acknowledged_by = answer.at, answer.actor
                _close_alert(drill.alert, "Drill complete: acknowledged.", now)
            elif now >= drill.answer_by:
                drill.outcome = PagingDrill.Outcome.MISSED
                _close_alert(drill.alert, "Drill over: nobody acknowledged it in time.", now)
                drill.missed_alert = _missed(drill, now)
            else:
                continue
            drill.settled_at = now
            drill.save()
            settled[drill.outcome] += 1
    return settled


def drill_hops(drill: PagingDrill) -> list[dict]:
    """Each page the drill sent, in order: to whom, how, when it was enqueued and when the
    provider accepted it."""
    if drill.alert is None:
        return []
    deliveries = (
        alert_deliveries(drill.alert)
        .filter(message__kind__in=PAGE_KINDS)
        .select_related("message", "person", "channel")
        .order_by("created_at", "pk")
    )
    return [
        {
            "person": delivery.person.get_username() if delivery.person else None,
            "channel": delivery.channel.name if delivery.channel else None,
            "kind": delivery.kind,
            "recipient": delivery.recipient_display(),
            "subject": delivery.message.subject,
            "enqueued_at": delivery.created_at,
            "due_at": delivery.next_attempt_at if delivery.sent_at is None else None,
            "accepted_at": delivery.sent_at,
            "status": delivery.status,
            "error": delivery.last_error,
        }
        for delivery in deliveries
    ]


def drill_answer(drill: PagingDrill) -> dict | None:
    """Who answered the drill, when and how, or None (not yet, or never)."""
    event = _answer(drill.alert)
    if event is None:
        return None
    return {
        "at": event.at,
        "by": event.actor.get_username() if event.actor else event.actor_name,
        "via": event.via,
        "after_seconds": round((event.at - drill.started_at).total_seconds(), 1),
    }
