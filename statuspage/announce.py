"""Incident and maintenance mail to subscribers: the fan-out.

statuspage.services calls `announce(kind, obj)` from `_after_commit`, which runs INSIDE the
service's transaction: message_enqueue writes the message and one delivery per confirmed
subscriber of the affected components there, and dispatches after commit itself. So a rolled
back update mails nobody, and the dedup key (one per incident update, one per maintenance event)
makes a retried call, or a second beat run, mail nobody twice.

Webhook, Slack and Teams subscribers get the same message through the same outbox (one delivery
per subscriber and message, unique on "subscriber:<id>"): Slack and Teams the text formatted for
them, webhooks the Atlassian Statuspage webhook body that the message context carries under
"statuspage" (page, incident), completed per subscriber with meta.unsubscribe and signed with
the subscriber's secret.

Who gets it: confirmed subscribers who chose none of the components (= all) or at least one of
the affected ones. An incident or maintenance naming no component concerns the whole service, so
it goes to every confirmed subscriber. Staff channels (Slack, staff e-mail, dashboard) get it only
when SUBSCRIBERS_ANNOUNCE_TO_CHANNELS is on: staff wrote the update, and the channels are for alerts.
"""

from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_noop

from notifications.models import Message
from notifications.services import EmailRecipient, UrlRecipient, message_enqueue, with_language
from statuspage import v2
from statuspage.branding import mail_context
from statuspage.markup import markdown_to_text, render_markdown
from statuspage.models import (
    Component,
    ComponentStatus,
    ComponentStatusChange,
    Incident,
    IncidentStatus,
    IncidentUpdate,
    Maintenance,
    MaintenanceStatus,
    MaintenanceUpdate,
)
from statuspage.queries import maintenance_with_details, overall_status, with_details
from subscribers.models import Subscriber, SubscriberKind, SubscriberStatus, subscriber_links

TIMELINE_LENGTH = 20
IMPACT_SEVERITY = {"none": "low", "minor": "medium", "major": "high", "critical": "critical"}
# Marked for translation, kept in English in the message: each subscriber's mail is rendered in
# their language (the templates translate these), the other channels read them as they are.
MAINTENANCE_EVENTS = {
    # event: (subject prefix, headline)
    "scheduled": (gettext_noop("Scheduled maintenance"), gettext_noop("Maintenance has been scheduled")),
    "reminder": (gettext_noop("Maintenance reminder"), gettext_noop("Scheduled maintenance starts soon")),
    "started": (
        gettext_noop("Maintenance in progress"),
        gettext_noop("Scheduled maintenance is in progress"),
    ),
    "completed": (gettext_noop("Maintenance completed"), gettext_noop("Scheduled maintenance is completed")),
    "cancelled": (
        gettext_noop("Maintenance cancelled"),
        gettext_noop("Scheduled maintenance has been cancelled"),
    ),
}
INCIDENT_HEADLINES = {
    "created": gettext_noop("New incident"),
    "updated": gettext_noop("Incident update"),
    "resolved": gettext_noop("Incident resolved"),
}


def _body(text: str) -> dict:
    """A body as the mail templates take it, rendered once per message, not once per recipient:
    `body` in plain text (the text mail, SMS, chat, webhooks) and `body_html` sanitised."""
    return {"body": markdown_to_text(text), "body_html": str(render_markdown(text))}


def _when(value: datetime) -> str:
    return timezone.localtime(value, timezone.get_fixed_timezone(0)).strftime("%Y-%m-%d %H:%M UTC")


def _confirmed_for(component_ids: list[int]):
    rows = Subscriber.objects.filter(status=SubscriberStatus.CONFIRMED)
    if component_ids:
        chosen = Subscriber.components.through.objects.filter(subscriber_id=OuterRef("pk"))
        rows = rows.filter(~Exists(chosen) | Exists(chosen.filter(component_id__in=component_ids)))
    return rows.order_by("pk")


MARKER = "TOKEN-MARKER"


def subscriber_recipients(component_ids: list[int]) -> Iterator[EmailRecipient]:
    """Confirmed e-mail subscribers for these components, streamed (a server-side cursor on
    PostgreSQL), each with their own unsubscribe and manage links."""
    rows = _confirmed_for(component_ids).filter(kind=SubscriberKind.EMAIL)
    # Build the links from one template instead of reversing two URLs per subscriber.
    templates = subscriber_links(MARKER)
    for address, token, language in rows.values_list("email", "manage_token", "language").iterator(
        chunk_size=2000
    ):
        links = {key: url.replace(MARKER, token) for key, url in templates.items()}
        yield EmailRecipient(address, with_language(links, language))


def url_recipients(component_ids: list[int], *, webhooks_only: bool = False) -> Iterator[UrlRecipient]:
    """Confirmed webhook, Slack and Teams subscribers for these components, streamed."""
    rows = _confirmed_for(component_ids).exclude(kind=SubscriberKind.EMAIL)
    if webhooks_only:
        rows = rows.filter(kind=SubscriberKind.WEBHOOK)
    templates = subscriber_links(MARKER)
    fields = ("pk", "kind", "url", "manage_token", "secret")
    for pk, kind, url, token, secret in rows.values_list(*fields).iterator(chunk_size=2000):
        context = {key: link.replace(MARKER, token) for key, link in templates.items()}
        if kind == SubscriberKind.WEBHOOK:
            context.update(payload="statuspage", signing_secret=secret)
        yield UrlRecipient(kind, url, f"subscriber:{pk}", context)


def _page_status() -> dict:
    """Statuspage's `page` object of a webhook body: the page's overall state right now."""
    overall = overall_status(
        list(Component.objects.all()),
        list(Incident.objects.unresolved()),
        list(
            Maintenance.objects.filter(
                status__in=[MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING]
            )
        ),
    )
    return {
        "id": v2.PAGE_ID,
        "status_indicator": overall.indicator,
        "status_description": overall.description,
    }


def statuspage_body(**objects: dict) -> dict:
    """What every webhook subscriber gets, but meta.unsubscribe (the sender adds each one's)."""
    return {
        "meta": {"documentation": settings.SUBSCRIBERS_WEBHOOK_DOCUMENTATION_URL},
        "page": _page_status(),
        **objects,
    }


def _channels() -> list | None:
    return None if settings.SUBSCRIBERS_ANNOUNCE_TO_CHANNELS else []


def _incident_context(incident: Incident, update: IncidentUpdate, event: str) -> dict:
    affected = incident.affected.select_related("component").order_by(
        "component__position", "component__name"
    )
    timeline = incident.updates.order_by("-display_at", "-id")[:TIMELINE_LENGTH]
    return {
        "event": event,
        "headline": INCIDENT_HEADLINES[event],
        "title": incident.title,
        "status": update.get_status_display(),
        "impact": incident.effective_impact,
        **_body(update.body),
        "url": settings.PUBLIC_URL + incident.get_absolute_url(),
        "components": [
            {"name": row.component.name, "status": ComponentStatus(row.status).label} for row in affected
        ],
        "timeline": [
            {"status": u.get_status_display(), "at": _when(u.display_at), **_body(u.body)} for u in timeline
        ],
        **mail_context(),
    }


def incident_update_announce(*, update: IncidentUpdate) -> Message | None:
    """Mail an incident update: created (its first update), updated, or resolved."""
    if not update.notify:
        return None
    incident = update.incident
    if not incident.updates.filter(pk__lt=update.pk).exists():
        event = "created"  # incident_create writes the first update in the same transaction
    elif update.status == IncidentStatus.RESOLVED:
        event = "resolved"
    else:
        event = "updated"
    component_ids = list(incident.affected.values_list("component_id", flat=True))
    detailed = with_details(Incident.objects.filter(pk=incident.pk)).get()
    context = {
        **_incident_context(incident, update, event),
        "statuspage": statuspage_body(incident=v2.incident(detailed)),
    }
    return message_enqueue(
        kind=f"incident.{event}",
        subject=f"[{update.get_status_display()}] {incident.title}"[:300],
        template="statuspage_incident",
        context=context,
        severity=IMPACT_SEVERITY.get(incident.effective_impact, "medium"),
        dedup_key=f"incident-update:{update.pk}",
        channels=_channels(),
        emails=subscriber_recipients(component_ids),
        urls=url_recipients(component_ids),
    )


def maintenance_announce(*, maintenance: Maintenance, event: str, body: str = "") -> Message:
    prefix, headline = MAINTENANCE_EVENTS[event]
    timeline = maintenance.updates.order_by("-display_at", "-id")[:TIMELINE_LENGTH]
    context = {
        "event": event,
        "headline": headline,
        "subject_prefix": prefix,
        "title": maintenance.title,
        "status": maintenance.get_status_display(),
        **_body(body or maintenance.description),
        "url": settings.PUBLIC_URL + maintenance.get_absolute_url(),
        "scheduled_for": _when(maintenance.scheduled_for),
        "scheduled_until": _when(maintenance.scheduled_until),
        "components": [{"name": c.name} for c in maintenance.components.order_by("position", "name")],
        "timeline": [
            {"status": u.get_status_display(), "at": _when(u.display_at), **_body(u.body)} for u in timeline
        ],
        **mail_context(),
    }
    # Statuspage sends scheduled maintenance as an incident with scheduled_for / scheduled_until.
    detailed = maintenance_with_details(Maintenance.objects.filter(pk=maintenance.pk)).get()
    context["statuspage"] = statuspage_body(incident=v2.maintenance(detailed))
    component_ids = list(maintenance.components.values_list("pk", flat=True))
    return message_enqueue(
        kind=f"maintenance.{event}",
        subject=f"[{prefix}] {maintenance.title}"[:300],
        template="statuspage_maintenance",
        context=context,
        severity="low",
        dedup_key=f"maintenance:{maintenance.pk}:{event}",
        channels=_channels(),
        emails=subscriber_recipients(component_ids),
        urls=url_recipients(component_ids),
    )


def component_update_announce(*, change: ComponentStatusChange) -> Message | None:
    """A component's status change, to webhook subscribers of it only, as Statuspage's
    component_update (e-mail, Slack and Teams subscribers hear of the incidents instead). No
    message at all when no webhook subscriber follows the component: probes change statuses
    often, and a message nobody receives is a row for nothing."""
    component = change.component
    if not _confirmed_for([component.pk]).filter(kind=SubscriberKind.WEBHOOK).exists():
        return None
    new_status = ComponentStatus(change.to_status).label
    update = {
        "created_at": v2.iso(change.at),
        "new_status": change.to_status,
        "old_status": change.from_status,
        "id": str(change.pk),
        "component_id": str(component.pk),
    }
    return message_enqueue(
        kind="component.updated",
        subject=f"{component.name}: {new_status}"[:300],
        context={
            "body": f"{component.name} is now {new_status.lower()}.",
            "url": settings.PUBLIC_URL + "/",
            "statuspage": statuspage_body(component_update=update, component=v2.component(component)),
        },
        severity="low",
        dedup_key=f"component-change:{change.pk}",
        channels=[],
        urls=url_recipients([component.pk], webhooks_only=True),
    )


def _scheduled_update(maintenance: Maintenance) -> MaintenanceUpdate | None:
    return maintenance.updates.filter(status=MaintenanceStatus.SCHEDULED).order_by("created_at", "id").first()


def maintenance_notifies(maintenance: Maintenance) -> bool:
    """Whether the window was scheduled to be announced: what its reminder and its automatic
    start and end follow."""
    update = _scheduled_update(maintenance)
    return update is None or update.notify


def announce(kind: str, obj) -> Message | None:
    """The hook statuspage.services calls inside the service's transaction: _after_commit for
    updates, _apply_status for a component's status change ("component_status")."""
    if kind == "incident_update" and isinstance(obj, IncidentUpdate):
        return incident_update_announce(update=obj)
    if kind == "component_status" and isinstance(obj, ComponentStatusChange):
        return component_update_announce(change=obj)
    if kind != "maintenance_update":
        return None
    if isinstance(obj, MaintenanceUpdate) and obj.notify:
        # Verifying is an internal step; subscribers hear of the schedule, the start and the end
        # (completed, or cancelled).
        # The dedup key is per event, so going back from verifying to in progress does not mail again.
        event = {
            MaintenanceStatus.SCHEDULED: "scheduled",
            MaintenanceStatus.IN_PROGRESS: "started",
            MaintenanceStatus.COMPLETED: "completed",
            MaintenanceStatus.CANCELLED: "cancelled",
        }.get(obj.status)
        if event:
            return maintenance_announce(maintenance=obj.maintenance, event=event, body=obj.body)
    return None


def maintenance_reminders_send(*, now: datetime | None = None) -> str:
    """The beat job send_maintenance_reminders: remind subscribers SUBSCRIBERS_REMINDER_MINUTES
    before a scheduled maintenance starts. Safe to run twice at once: rows are claimed with
    SKIP LOCKED and the dedup key lets one reminder per maintenance exist. Maintenance
    scheduled less than the lead time ahead gets none (its "scheduled" mail just went out)."""
    minutes = settings.SUBSCRIBERS_REMINDER_MINUTES
    if not minutes:
        return "maintenance reminders: off (SUBSCRIBERS_REMINDER_MINUTES=0)"
    now = now or timezone.now()
    lead = timedelta(minutes=minutes)
    due = Maintenance.objects.filter(
        status=MaintenanceStatus.SCHEDULED, scheduled_for__gt=now, scheduled_for__lte=now + lead
    )
    sent = 0
    for maintenance in due:
        key = f"maintenance:{maintenance.pk}:reminder"
        if maintenance.scheduled_for - maintenance.created_at <= lead:
            continue
        if Message.objects.filter(dedup_key=key).exists():
            continue
        if not maintenance_notifies(maintenance):
            continue
        with transaction.atomic():
            row = (
                Maintenance.objects.select_for_update(skip_locked=True)
                .filter(pk=maintenance.pk, status=MaintenanceStatus.SCHEDULED)
                .first()
            )
            if row is None:
                continue
            message = maintenance_announce(maintenance=row, event="reminder", body=row.description)
            sent += int(message.created_now)
    return f"maintenance reminders: {sent} sent"
