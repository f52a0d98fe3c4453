"""How alerts reach people: through the notifications outbox, grouped per channel.

Alerts that fire together (in one evaluation tick, one Alertmanager payload, or before the
next sweep) go out as one message per channel rather than one each, so an outage that trips
forty rules sends one page, not forty. Every alert announced as firing is later announced
as resolved. Escalations are alerts.escalation's.
"""

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from alerts.action_menu import alert_actions
from alerts.models import Alert, AlertEvent, AlertMessage, AlertRule
from notifications.models import INCIDENT_TOOL_KINDS, SEVERITY_RANK, Channel, Delivery, Message
from notifications.services import message_enqueue


def alert_message_enqueue(*, alerts: list[Alert], **message) -> Message:
    """notifications.services.message_enqueue for a message about these alerts, linked to each
    of them so that their timelines list its deliveries. Every alert message goes through here
    (firing, resolved, escalated, flapping, a page to a person). A producer retry that gets the
    first message back links nothing new."""
    sent = message_enqueue(**message)
    AlertMessage.objects.bulk_create(
        [AlertMessage(alert=alert, message=sent) for alert in alerts], ignore_conflicts=True
    )
    return sent


def _alert_context(alert: Alert) -> dict:
    return {
        "id": alert.pk,
        # A voice call's "press 1 to acknowledge" carries it, so a call answered after the
        # alert changed (acknowledged, escalated, resolved) does nothing.
        "escalation_token": alert.escalation_token,
        # The incident tools' dedup key / alias: one incident per alert there, whatever is said.
        "fingerprint": alert.fingerprint,
        "title": alert.title,
        "severity": alert.severity,
        "status": alert.status,
        "message": alert.message,
        "metric": alert.metric,
        "value": alert.last_value if alert.last_value is not None else alert.value,
        "threshold": alert.threshold,
        "fired_at": alert.fired_at.isoformat(),
        "occurrences": alert.occurrence_count,
        "runbook_url": alert.rule.runbook_url if alert.rule_id else "",
        "url": f"{settings.PUBLIC_URL}/admin/alerts/alert/{alert.pk}/change/",
        # Signed per recipient when rendered (notifications.action_links).
        "actions": alert_actions(alert),
    }


# The escalation engine (alerts.escalation) shows an alert the same way.
alert_context = _alert_context


def _group_context(state: str, alerts: list[Alert], **extra) -> dict:
    """The template context; `body` and `url` are what Slack, webhooks and the generic
    templates show."""
    lines = [f"[{a.severity}] {a.title}: {a.message}".rstrip(": ") for a in alerts]
    return {
        "state": state,
        "alerts": [_alert_context(a) for a in alerts],
        "body": "\n".join(lines),
        "url": f"{settings.PUBLIC_URL}/admin/alerts/alert/"
        if len(alerts) > 1
        else _alert_context(alerts[0])["url"],
        **extra,
    }


def alert_channels(
    *,
    rule: AlertRule | None,
    severity: str,
    routed: list[int] | None = None,
) -> list[Channel]:
    """The channels an alert or a rule's flapping notice goes to (escalations: alerts.escalation).

    An alert its source routed (the ids in `routed`: a heartbeat check's channels) goes to those;
    an alert of a rule that names channels
    to those; an alert without a rule (manual, Alertmanager, meta) or of a rule that names none
    goes to every channel. Always only the enabled ones whose minimum severity admits it, so a
    rule whose named channels are all disabled sends nothing: disabling is how staff switch a
    channel off, and it must not turn into paging everyone else instead."""
    if routed:
        named = Channel.objects.filter(pk__in=routed)
    elif rule is not None and rule.channels.exists():
        named = rule.channels.all()
    else:
        named = Channel.objects.all()
    return [channel for channel in named.filter(enabled=True).order_by("pk") if channel.admits(severity)]


def _channels_for(alert: Alert, channel_cache: dict) -> list[Channel]:
    routed = sorted(channel.pk for channel in alert.channels.all())
    key = (alert.rule_id or 0, alert.severity, tuple(routed))
    if key not in channel_cache:
        channel_cache[key] = alert_channels(
            rule=alert.rule if alert.rule_id else None, severity=alert.severity, routed=routed
        )
    return channel_cache[key]


def _severity_of(alerts: list[Alert]) -> str:
    return max((a.severity for a in alerts), key=lambda severity: SEVERITY_RANK[severity])


def _digest(alerts: list[Alert]) -> str:
    ids = ",".join(str(a.pk) for a in sorted(alerts, key=lambda a: a.pk))
    return hashlib.sha256(ids.encode()).hexdigest()[:32]


def incident_channels_told(alert: Alert) -> list[Channel]:
    """The incident-tool channels (PagerDuty, Opsgenie) that were told this alert fired, by its
    firing message or an escalation: those whose incident an acknowledgement or a resolution
    must reach, even if the rule names other channels by now."""
    tools = Channel.objects.filter(kind__in=INCIDENT_TOOL_KINDS)
    firing = [f"alerts:firing:{pk}:{_digest([alert])}" for pk in tools.values_list("pk", flat=True)]
    told = (
        Delivery.objects.filter(
            kind__in=INCIDENT_TOOL_KINDS, channel__isnull=False, message__created_at__gte=alert.fired_at
        )
        .filter(
            Q(message__dedup_key__in=firing)
            | Q(message__dedup_key__startswith=f"alert:{alert.pk}:escalation:")
        )
        .values("channel_id")
    )
    return list(tools.filter(pk__in=told).order_by("pk"))


def _groups(alerts: list[Alert], state: str) -> list[tuple[Channel, list[Alert]]]:
    """One group per channel; for an incident tool one per channel and alert, since each alert is
    its own incident there (the tool groups incidents its own way). A resolution reaches the
    incident tools that were told the alert fired, the other channels as the rule says now."""
    groups: dict[tuple[int, int], tuple[Channel, list[Alert]]] = {}
    channel_cache: dict = {}
    # Without any incident-tool channel there is nobody to look up (one query, not one per alert).
    tools_exist = state == "resolved" and Channel.objects.filter(kind__in=INCIDENT_TOOL_KINDS).exists()
    for alert in alerts:
        channels = _channels_for(alert, channel_cache)
        if tools_exist:
            channels = [c for c in channels if c.kind not in INCIDENT_TOOL_KINDS]
            channels += incident_channels_told(alert)
        for channel in channels:
            key = (channel.pk, alert.pk if channel.kind in INCIDENT_TOOL_KINDS else 0)
            groups.setdefault(key, (channel, []))[1].append(alert)
    return list(groups.values())


def _send_groups(alerts: list[Alert], *, state: str, now: datetime) -> int:
    groups = _groups(alerts, state)
    events = []
    for channel, members in groups:
        title = members[0].title if len(members) == 1 else f"{len(members)} alerts"
        alert_message_enqueue(
            alerts=members,
            kind=f"alert.{state}",
            subject=f"[{state.upper()}{':' + str(len(members)) if len(members) > 1 else ''}] {title}",
            template="alert",
            context=_group_context(state, members),
            severity=_severity_of(members),
            dedup_key=f"alerts:{state}:{channel.pk}:{_digest(members)}",
            channels=[channel],
        )
        events += [
            AlertEvent(alert=a, kind=AlertEvent.Kind.NOTIFIED, at=now, detail=f"{state} via {channel}")
            for a in members
        ]
    AlertEvent.objects.bulk_create(events)
    return len(groups)


def alert_acknowledgement_announce(alert: Alert, *, now: datetime) -> None:
    """Tell the incident tools that were told of the alert that someone acknowledged it, so the
    incident there is acknowledged too (and stops paging). Other channels are not told: an
    acknowledgement is not news in a chat room. Called inside alert_acknowledge's transaction:
    the message is written with the acknowledgement and sent after commit; its key (the token
    the acknowledgement set) makes it one message however often the caller retries."""
    channels = incident_channels_told(alert)
    if not channels:
        return
    who = alert.acknowledged_by.get_username() if alert.acknowledged_by_id else "the system"
    alert_message_enqueue(
        alerts=[alert],
        kind="alert.acknowledged",
        subject=f"[ACKNOWLEDGED] {alert.title}",
        template="alert",
        context=_group_context("acknowledged", [alert], acknowledged_by=who, note=alert.acknowledgement_note),
        severity=alert.severity,
        dedup_key=f"alert:{alert.pk}:acknowledged:{alert.escalation_token}",
        channels=channels,
    )
    AlertEvent.objects.bulk_create(
        AlertEvent(alert=alert, kind=AlertEvent.Kind.NOTIFIED, at=now, detail=f"acknowledged via {c}")
        for c in channels
    )


def alerts_pending_announce(*, now: datetime | None = None) -> int:
    """Announce every alert not yet announced (firing) or whose resolution is not yet
    announced. Rows are claimed with SKIP LOCKED, so concurrent sweeps never announce twice."""
    now = now or timezone.now()
    sent = 0
    with transaction.atomic():
        firing = list(
            Alert.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(notified_at__isnull=True, suppressed_reason="")
            .exclude(status=Alert.Status.RESOLVED)
            .select_related("rule")
            .prefetch_related("channels")
            .order_by("pk")[:1000]
        )
        if firing:
            sent += _send_groups(firing, state="firing", now=now)
            Alert.objects.filter(pk__in=[a.pk for a in firing]).update(notified_at=now)
        resolved = list(
            Alert.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                status=Alert.Status.RESOLVED, notified_at__isnull=False, resolution_notified_at__isnull=True
            )
            .select_related("rule")
            .prefetch_related("channels")
            .order_by("pk")[:1000]
        )
        quiet = [a for a in resolved if a.rule_id and a.rule.flapping]
        loud = [a for a in resolved if a not in quiet]
        if loud:
            sent += _send_groups(loud, state="resolved", now=now)
        AlertEvent.objects.bulk_create(
            AlertEvent(
                alert=a, kind=AlertEvent.Kind.SUPPRESSED, at=now, detail="resolution not sent: flapping"
            )
            for a in quiet
        )
        if resolved:
            Alert.objects.filter(pk__in=[a.pk for a in resolved]).update(resolution_notified_at=now)
    return sent


def rule_flapping_announce(rule: AlertRule, *, now: datetime) -> None:
    """Said once when a rule starts flapping; its alerts are then recorded but not sent."""
    alert = Alert.objects.filter(rule=rule).order_by("-fired_at").first()
    channels = alert_channels(rule=rule, severity=rule.severity)
    if channels:
        alert_message_enqueue(
            alerts=[alert] if alert else [],
            kind="alert.flapping",
            subject=f"[FLAPPING] {rule.name}",
            template="alert",
            context={
                "state": "flapping",
                "alerts": [_alert_context(alert)] if alert else [],
                "body": (
                    f"{rule.name} changed state {len(rule.recent_transitions)} times in "
                    f"{settings.ALERT_FLAP_WINDOW_MINUTES} minutes; its alerts are recorded but not sent "
                    "until it settles."
                ),
            },
            severity=rule.severity,
            dedup_key=f"rule:{rule.pk}:flapping:{now:%Y%m%dT%H%M%S}",
            channels=channels,
        )
    if alert is not None:
        AlertEvent.objects.create(
            alert=alert,
            kind=AlertEvent.Kind.FLAPPING,
            at=now,
            actor_type=AlertEvent.Actor.RULE,
            detail=f"{len(rule.recent_transitions)} changes in {settings.ALERT_FLAP_WINDOW_MINUTES} min",
        )


# --- announcing after commit ----------------------------------------------------------------


@shared_task(ignore_result=True)
def notify_alerts() -> str:
    return f"{alerts_pending_announce()} grouped notifications"


class _Batch(threading.local):
    depth = 0
    pending = False


_batch = _Batch()


def alerts_announce_after_commit() -> None:
    """Announce new alerts and resolutions once the caller's transaction has committed; the
    alert services call it. Inside announcements_batched() it waits for the batch to end, so
    alerts changed together go out as one message per channel. With the broker down this only
    logs (robust): the change is saved, and the escalate_alerts sweep announces what is pending."""
    if _batch.depth:
        _batch.pending = True
        return
    transaction.on_commit(notify_alerts.delay, robust=True)


@contextmanager
def announcements_batched() -> Iterator[_Batch]:
    """Alerts raised or resolved inside are announced together, once, when the batch ends (a probe
    round, a bulk admin action). A caller that announces synchronously itself (the evaluation
    tick) sets `pending = False` on the batch it is given."""
    _batch.depth += 1
    try:
        yield _batch
    finally:
        _batch.depth -= 1
        if _batch.depth == 0 and _batch.pending:
            _batch.pending = False
            alerts_announce_after_commit()
