"""Alert lifecycle: raise (with dedup), acknowledge, resolve, reopen; escalation is alerts.escalation.

Admin actions, API views and tasks all call these functions; each refuses an illegal
transition with AlertTransitionError (the API answers 409, the admin shows a message).
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from alerts.escalation import (  # noqa: F401  (the sweep and its task are part of this interface)
    alert_escalate,
    alert_pages_resolved,
    alert_pages_stop,
    alerts_escalate_due,
    first_escalation_at,
    policy_id_of,
)
from alerts.models import Alert, AlertEvent, AlertRule, Severity, Silence
from alerts.notify import alert_acknowledgement_announce, alerts_announce_after_commit
from core.text import clean_line, clean_text
from statuspage.models import ComponentStatus, Incident, IncidentTemplate
from statuspage.services import incident_create_from_template

logger = logging.getLogger(__name__)


class AlertTransitionError(Exception):
    """An acknowledge / resolve / reopen that the alert's current status does not allow."""


@dataclass
class Raised:
    alert: Alert
    created: bool
    counted: bool = True


def _event(
    alert: Alert,
    kind: str,
    *,
    actor_type=AlertEvent.Actor.SYSTEM,
    user=None,
    detail="",
    at=None,
    actor_name: str = "",
    via: str = "",
):
    return AlertEvent.objects.create(
        alert=alert,
        kind=kind,
        actor_type=actor_type,
        actor=user,
        actor_name=actor_name[:300],
        detail=detail,
        at=at or timezone.now(),
        via=via[:20],
    )


# Labels every alert carries, which silences match on; a manual alert cannot set them itself.
BUILT_IN_LABELS = ("alertname", "severity", "type", "metric", "fingerprint", "rule", "component")


def alert_labels(alert: Alert) -> dict:
    """What silences match against."""
    built_in = {
        "alertname": alert.title,
        "severity": alert.severity,
        "type": alert.alert_type,
        "metric": alert.metric,
        "fingerprint": alert.fingerprint,
    }
    if alert.rule_id:
        built_in["rule"] = alert.rule.name
    if alert.component_id:
        built_in["component"] = alert.component.name
    own = {str(k): str(v) for k, v in (alert.labels or {}).items()}
    if alert.alert_type == Alert.Type.EXTERNAL:
        # An external source's labels are what its operators silence on (Alertmanager's own
        # alertname and severity words), so they stand where they are set.
        return {**built_in, **own}
    return {**own, **built_in}


def suppression_reason(alert: Alert, now: datetime) -> str:
    """Why this alert must be recorded but not sent ('' if it may be sent)."""
    if alert.component_id and alert.component.status == "under_maintenance":
        return "component under maintenance"
    if alert.rule_id and alert.rule.flapping:
        return "rule is flapping"
    labels = alert_labels(alert)
    for silence in Silence.objects.active(now):
        if silence.matches(labels):
            return f"silenced by silence #{silence.pk}"
    return ""


def alert_raise(
    *,
    fingerprint: str,
    title: str,
    severity: str,
    alert_type: str = Alert.Type.METRIC,
    message: str = "",
    metric: str = "",
    value: float | None = None,
    threshold: float | None = None,
    labels: dict | None = None,
    rule: AlertRule | None = None,
    component=None,
    actor_type: str = AlertEvent.Actor.RULE,
    user=None,
    hold_reason: str = "",
    occurrence_key: str = "",
    channels=(),
    escalation_policy=None,
    now: datetime | None = None,
) -> Raised:
    """Open an alert for `fingerprint`, or count a repeat on the open one.

    `channels` are where the alert's source routes it (a heartbeat check's channels), in
    place of its rule's or every channel; they are set when the alert opens. So is
    `escalation_policy`, who is paged for it in place of its rule's policy.

    `hold_reason` records the alert without notifying it (e.g. a probe whose dependency is
    down: one root cause, one page); silences and maintenance do the same on their own.
    `occurrence_key` is the source's own name for this occurrence: a source that re-sends the
    same occurrence (Alertmanager repeating a group) is not counted twice.

    Race-free: the partial unique constraint allows one open alert per fingerprint; a second
    creator loses the INSERT inside a savepoint and counts a repeat instead.
    """
    now = now or timezone.now()
    candidate = Alert(
        fingerprint=fingerprint,
        title=title[:300],
        severity=severity,
        alert_type=alert_type,
        message=message,
        metric=metric,
        value=value,
        last_value=value,
        threshold=threshold,
        labels=labels or {},
        rule=rule,
        component=component,
        occurrence_key=occurrence_key,
        escalation_policy=escalation_policy,
        fired_at=now,
        last_fired_at=now,
    )
    # Matched before any row is locked: however many silences there are, matching them never
    # holds up another writer of the same alert.
    reason = hold_reason or suppression_reason(candidate, now)
    candidate.suppressed_reason = reason
    candidate.next_escalation_at = None if reason else first_escalation_at(policy_id_of(candidate), now)
    with transaction.atomic():
        existing = Alert.objects.select_for_update().filter(fingerprint=fingerprint).open().first()
        if existing is None:
            try:
                with transaction.atomic():
                    candidate.save(force_insert=True)
                    alert = candidate
                    if channels:
                        alert.channels.set(channels)
            except IntegrityError:
                existing = Alert.objects.select_for_update().filter(fingerprint=fingerprint).open().get()
            else:
                _event(alert, AlertEvent.Kind.FIRED, actor_type=actor_type, user=user, detail=message, at=now)
                if reason:
                    kind = (
                        AlertEvent.Kind.SILENCED
                        if reason.startswith("silenced")
                        else AlertEvent.Kind.SUPPRESSED
                    )
                    _event(alert, kind, detail=reason, at=now)
                alerts_announce_after_commit()
                return Raised(alert, True)
        if occurrence_key and existing.occurrence_key == occurrence_key:
            return Raised(existing, False, counted=False)
        Alert.objects.filter(pk=existing.pk).update(
            occurrence_count=F("occurrence_count") + 1,
            last_value=value,
            last_fired_at=now,
            occurrence_key=occurrence_key,
        )
        existing.refresh_from_db()
        _event(existing, AlertEvent.Kind.REPEATED, actor_type=actor_type, user=user, detail=message, at=now)
        return Raised(existing, False)


def _locked(alert: Alert) -> Alert:
    return Alert.objects.select_for_update().get(pk=alert.pk)


def alert_acknowledge(
    *,
    alert: Alert,
    user=None,
    note: str = "",
    actor_name: str = "",
    now: datetime | None = None,
    actor_type: str | None = None,
    if_token: int | None = None,
    via: str = "",
) -> Alert:
    """`actor_name` names who acted when no user did (a signed link's recipient, a Slack user).
    `if_token`: acknowledge only if the alert's escalation token is still this one (a voice
    call's key press names the token its call was made with), checked under the row lock.
    `via` names what the person used (api, admin, console, link...), for the timeline."""
    now = now or timezone.now()
    with transaction.atomic():
        alert = _locked(alert)
        if if_token is not None and alert.escalation_token != if_token:
            raise AlertTransitionError("The alert changed since this request was made; nothing was done.")
        if alert.status != Alert.Status.FIRING:
            raise AlertTransitionError(
                f"Only a firing alert can be acknowledged; this one is {alert.status}."
            )
        alert.status = Alert.Status.ACKNOWLEDGED
        alert.acknowledged_at = now
        alert.first_acknowledged_at = alert.first_acknowledged_at or now
        alert.acknowledged_by = user
        alert.acknowledgement_note = note
        alert.next_escalation_at = None  # acknowledging stops escalation at once
        alert.escalation_token += 1
        alert.save()
        alert_pages_stop(alert, reason=f"acknowledged by {user or actor_name or 'the system'}")
        _event(
            alert,
            AlertEvent.Kind.ACKNOWLEDGED,
            actor_type=actor_type or _actor(user, actor_name),
            user=user,
            actor_name=actor_name,
            detail=note,
            at=now,
            via=via,
        )
        alert_acknowledgement_announce(alert, now=now)
        alerts_announce_after_commit()
    return alert


def _actor(user, actor_name: str = "") -> str:
    return AlertEvent.Actor.USER if user is not None or actor_name else AlertEvent.Actor.SYSTEM


def alert_resolve(
    *,
    alert: Alert,
    user=None,
    note: str = "",
    action_taken: str = "",
    actor_type: str | None = None,
    actor_name: str = "",
    via: str = "",
    now: datetime | None = None,
) -> Alert:
    now = now or timezone.now()
    with transaction.atomic():
        alert = _locked(alert)
        if alert.status == Alert.Status.RESOLVED:
            raise AlertTransitionError("This alert is already resolved.")
        alert.status = Alert.Status.RESOLVED
        alert.resolved_at = now
        alert.resolved_by = user
        alert.resolution_note = note
        alert.action_taken = action_taken
        alert.next_escalation_at = None
        alert.escalation_token += 1
        alert.save()
        alert_pages_stop(alert, reason="resolved")
        alert_pages_resolved(alert, now=now)
        _event(
            alert,
            AlertEvent.Kind.RESOLVED,
            actor_type=actor_type or _actor(user, actor_name),
            user=user,
            actor_name=actor_name,
            detail=note,
            at=now,
            via=via,
        )
        alerts_announce_after_commit()
    return alert


def alert_reopen(
    *, alert: Alert, user=None, note: str = "", via: str = "", now: datetime | None = None
) -> Alert:
    now = now or timezone.now()
    with transaction.atomic():
        alert = _locked(alert)
        if alert.status != Alert.Status.RESOLVED:
            raise AlertTransitionError(f"Only a resolved alert can be reopened; this one is {alert.status}.")
        if Alert.objects.filter(fingerprint=alert.fingerprint).open().exists():
            raise AlertTransitionError(
                "Another alert with the same fingerprint is open; update that one instead."
            )
        alert.status = Alert.Status.FIRING
        alert.resolved_at = None
        alert.resolved_by = None
        alert.acknowledged_at = None
        alert.acknowledged_by = None
        alert.last_fired_at = now
        alert.notified_at = None
        alert.resolution_notified_at = None
        alert.escalation_level = 0
        alert.escalation_repeats = 0
        alert.escalation_cycle = 0
        alert.escalation_token += 1
        alert.next_escalation_at = first_escalation_at(policy_id_of(alert), now)
        alert.save()
        _event(
            alert, AlertEvent.Kind.REOPENED, actor_type=_actor(user), user=user, detail=note, at=now, via=via
        )
        alerts_announce_after_commit()
    return alert


# The status an alert's own component gets on the status page when nothing else says.
COMPONENT_STATUS_OF_SEVERITY = {
    Severity.CRITICAL: ComponentStatus.MAJOR_OUTAGE,
    Severity.HIGH: ComponentStatus.PARTIAL_OUTAGE,
    Severity.MEDIUM: ComponentStatus.DEGRADED_PERFORMANCE,
    Severity.LOW: ComponentStatus.DEGRADED_PERFORMANCE,
}


@dataclass
class Declared:
    incident: Incident
    created: bool


def alert_incident_defaults(alert: Alert) -> dict:
    """What an incident declared from the alert says unless a template or the request says
    otherwise: the rule's name (else the alert's title), the alert's summary, its component."""
    title = clean_line(alert.rule.name if alert.rule_id else alert.title)[:200]
    values = {
        "title": title,
        "message": clean_text(alert.message).strip() or f"We are investigating: {title}.",
    }
    if alert.component_id:
        values["components"] = {
            alert.component: COMPONENT_STATUS_OF_SEVERITY.get(
                alert.severity, ComponentStatus.DEGRADED_PERFORMANCE
            )
        }
    return values


def alert_declare_incident(
    *,
    alert: Alert,
    user=None,
    template: IncidentTemplate | None = None,
    via: str = "",
    now: datetime | None = None,
    **given,
) -> Declared:
    """Open a public incident for an open alert and link the two. `given` (title, message,
    status, components, impact_override, notify) wins over the template, which wins over
    alert_incident_defaults. While the linked incident is open, declaring again returns it:
    the check and the link are made under the alert's row lock, so two people (or a retried
    request) declaring at once open one incident."""
    now = now or timezone.now()
    with transaction.atomic():
        alert = _locked(alert)
        if alert.incident_id:
            linked = Incident.objects.filter(pk=alert.incident_id).first()
            if linked is not None and linked.is_open:
                return Declared(linked, False)
        if not alert.is_open:
            raise AlertTransitionError(
                "Only an open alert can be declared an incident; this one is resolved."
            )
        incident = incident_create_from_template(
            template=template, author=user, defaults=alert_incident_defaults(alert), **given
        )
        alert.incident = incident
        alert.save(update_fields=["incident"])
        _event(
            alert,
            AlertEvent.Kind.INCIDENT,
            actor_type=_actor(user),
            user=user,
            detail=f"incident #{incident.pk}: {incident.title}",
            at=now,
            via=via,
        )
    return Declared(incident, True)


def silence_create(
    *,
    matchers: list[dict],
    ends_at: datetime,
    starts_at: datetime | None = None,
    author=None,
    comment: str = "",
) -> Silence:
    silence = Silence(
        matchers=matchers,
        starts_at=starts_at or timezone.now(),
        ends_at=ends_at,
        author=author,
        comment=comment,
    )
    silence.full_clean()
    silence.save()
    return silence


def silence_update(*, silence: Silence) -> Silence:
    silence.full_clean()
    silence.save()
    return silence


def silence_expire(*, silence: Silence, now: datetime | None = None) -> Silence:
    """End a silence now. It is kept, never deleted: it stays the record of why alerts were quiet."""
    silence.ends_at = min(silence.ends_at, now or timezone.now())
    silence.save(update_fields=["ends_at"])
    return silence


def alert_silence(
    *,
    alert: Alert,
    minutes: int = 60,
    user=None,
    actor_name: str = "",
    now: datetime | None = None,
) -> Silence:
    """Silence this alert's fingerprint for `minutes`: repeats and new alerts of it are recorded
    but not sent, and its escalation waits until the silence ends (someone has seen it and asked
    for quiet; paging the next level meanwhile would defeat that)."""
    now = now or timezone.now()
    ends_at = now + timedelta(minutes=minutes)
    with transaction.atomic():
        alert = _locked(alert)
        if alert.status == Alert.Status.RESOLVED:
            raise AlertTransitionError("This alert is already resolved; there is nothing to silence.")
        who = str(user) if user is not None else actor_name or "the system"
        silence = silence_create(
            matchers=[{"label": "fingerprint", "op": "=", "value": alert.fingerprint}],
            starts_at=now,
            ends_at=ends_at,
            author=user,
            comment=f"Silenced for {minutes} min from alert #{alert.pk} by {who}."[:2000],
        )
        if alert.next_escalation_at is not None and alert.next_escalation_at < ends_at:
            alert.next_escalation_at = ends_at
        alert.escalation_token += 1
        alert.save(update_fields=["next_escalation_at", "escalation_token"])
        _event(
            alert,
            AlertEvent.Kind.SILENCED,
            actor_type=_actor(user, actor_name),
            user=user,
            actor_name=actor_name,
            detail=f"silence #{silence.pk} until {ends_at:%Y-%m-%d %H:%M} UTC",
            at=now,
        )
    return silence
