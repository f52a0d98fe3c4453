"""Demo data, one idempotent function per app; seed_demo runs them in order.

Each function returns a short line saying what it made, and running it twice makes nothing new.
Later apps add their own function here.
"""

from collections.abc import Callable

from django.contrib.auth import get_user_model

from alerts.demo import seed_alerts
from healthchecks.demo import seed_probes
from monitoring.demo import seed_metrics
from notifications.demo import seed_notifications
from statuspage.demo import seed_statuspage
from statuspage.subscriber_demo import seed_subscribers


def seed_staff() -> str:
    User = get_user_model()
    operator, created = User.objects.get_or_create(
        username="operator",
        defaults={
            "email": "operator@example.com",
            "is_staff": True,
            "first_name": "Olive",
            "last_name": "Operator",
        },
    )
    if created:
        operator.set_unusable_password()
        operator.save()
    return f"staff: operator user {'created' if created else 'already there'}"


SEEDS: list[Callable[[], str]] = [
    seed_staff,
    seed_notifications,
    seed_statuspage,
    seed_subscribers,
    seed_probes,
    seed_metrics,
    seed_alerts,
]
