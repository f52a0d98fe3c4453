"""An alert's timeline: what happened to it and who was told, in time order.

Two sources are merged: the alert's own events (raised, acknowledged, escalated, silenced,
resolved...) and the outbox deliveries of every message sent about it. A message belongs to an
alert through an AlertMessage row (alerts.notify writes one for each alert in the message) or
through its thread (`alert:<id>`: the escalations and the pages to people, alerts.escalation).
Deliveries are read generally (any kind, with or without a channel), so a page to a person that
another producer records as a Delivery shows up without anything added here.

A fixed number of queries whatever the alert's history: events, deliveries and their attempts,
each cut to the limit.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, Q

from alerts.models import Alert, AlertEvent
from notifications.models import Delivery, DeliveryAttempt

DEFAULT_LIMIT = 200
MAX_LIMIT = 1000


@dataclass(frozen=True)
class Entry:
    at: datetime
    type: str  # "event" or "delivery"
    data: dict


@dataclass(frozen=True)
class Timeline:
    alert: Alert
    entries: list[Entry]
    truncated: bool  # more entries exist after the last one given


def alert_deliveries(alert: Alert):
    """Every delivery of a message about this alert."""
    # Escalations and pages to people are one thread per alert (alerts.escalation), the other
    # messages are linked by AlertMessage rows: both indexed, so no scan of the outbox.
    threads = [f"alert:{alert.pk}", f"alert:{alert.pk}:resolved"]
    return Delivery.objects.filter(
        Q(message__alert_links__alert=alert) | Q(message__thread__in=threads)
    ).distinct()


def _event(event: AlertEvent) -> Entry:
    return Entry(
        event.at,
        "event",
        {
            "kind": event.kind,
            "kind_display": event.get_kind_display(),
            "actor_type": event.actor_type,
            "actor": event.actor.get_username() if event.actor else None,
            "via": event.via,
            "detail": event.detail,
        },
    )


def _delivery(delivery: Delivery) -> Entry:
    attempts = sorted(delivery.attempt_log.all(), key=lambda a: (a.started_at, a.pk))
    return Entry(
        delivery.created_at,
        "delivery",
        {
            "id": delivery.pk,
            "message_kind": delivery.message.kind,
            "subject": delivery.message.subject,
            "kind": delivery.kind,
            "channel": (
                {"id": delivery.channel.pk, "name": delivery.channel.name} if delivery.channel else None
            ),
            "recipient": delivery.recipient_display(),
            "status": delivery.status,
            "enqueued_at": delivery.created_at,
            "sent_at": delivery.sent_at,
            "last_status_code": delivery.last_status_code,
            "last_error": delivery.last_error,
            "attempts": [
                {
                    "started_at": attempt.started_at,
                    "duration_ms": attempt.duration_ms,
                    "outcome": attempt.outcome,
                    "status_code": attempt.status_code,
                    "error": attempt.error,
                }
                for attempt in attempts
            ],
        },
    )


def alert_timeline(alert: Alert, *, limit: int = DEFAULT_LIMIT) -> Timeline:
    """The first `limit` entries in time order (events before deliveries at the same instant)."""
    limit = max(1, min(limit, MAX_LIMIT))
    events = list(
        AlertEvent.objects.filter(alert=alert).select_related("actor").order_by("at", "pk")[: limit + 1]
    )
    deliveries = list(
        alert_deliveries(alert)
        .select_related("message", "channel")
        .prefetch_related(
            Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("started_at", "pk"))
        )
        .order_by("created_at", "pk")[: limit + 1]
    )
    entries = sorted(
        [_event(e) for e in events] + [_delivery(d) for d in deliveries],
        key=lambda entry: (entry.at, entry.type != "event"),
    )
    return Timeline(alert, entries[:limit], truncated=len(entries) > limit)
