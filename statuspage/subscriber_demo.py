"""Demo subscribers: confirmed ones (one per component choice) and a pending one. Idempotent.

Written directly, not through subscriber_subscribe: the demo must not mail example.com."""

from django.utils import timezone

from core.tokens import new_token, token_digest
from statuspage.models import Component
from subscribers.models import Subscriber, SubscriberStatus

DEMO_SUBSCRIBERS = [
    ("alex@example.com", SubscriberStatus.CONFIRMED, []),
    ("sam@example.com", SubscriberStatus.CONFIRMED, ["REST API", "Webhooks"]),
    ("kim@example.org", SubscriberStatus.CONFIRMED, ["Database cluster"]),
    ("pat@example.net", SubscriberStatus.PENDING, []),
    ("lee@example.com", SubscriberStatus.UNSUBSCRIBED, []),
]


def seed_subscribers() -> str:
    now = timezone.now()
    created = 0
    for email, status, component_names in DEMO_SUBSCRIBERS:
        subscriber, made = Subscriber.objects.get_or_create(
            email=email,
            defaults={
                "status": status,
                "confirm_token_digest": token_digest(new_token()),
                "confirm_sent_at": now,
                "confirmed_at": now if status != SubscriberStatus.PENDING else None,
                "unsubscribed_at": now if status == SubscriberStatus.UNSUBSCRIBED else None,
            },
        )
        if made:
            created += 1
            subscriber.components.set(Component.objects.filter(name__in=component_names))
    return f"subscribers: {created} created, {len(DEMO_SUBSCRIBERS) - created} already there"
