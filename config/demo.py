"""Demo data, one idempotent function per app; seed_demo runs them in order.

Each function returns a short line saying what it made, and running it twice makes nothing new.
Later apps add their own function here.
"""

from collections.abc import Callable

from django.contrib.auth import get_user_model

from alerts.demo import seed_alerts
from config.roles import ADMINISTRATORS, OPERATORS, VIEWERS, sync_roles
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


def seed_roles() -> str:
    """The role groups, and one demo user per role (no password: an administrator sets one in
    the admin, or logs in as them with `manage.py changepassword <name>`). The `operator` user
    made above joins Operators."""
    from django.contrib.auth.models import Group

    sync_roles()
    User = get_user_model()
    made = []
    for username, role, first in (
        ("viewer", VIEWERS, "Vera"),
        ("operator", OPERATORS, "Olive"),
        ("administrator", ADMINISTRATORS, "Ada"),
    ):
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"email": f"{username}@example.com", "is_staff": True, "first_name": first},
        )
        if created:
            user.set_unusable_password()
            user.save()
            made.append(username)
        user.groups.add(Group.objects.get(name=role))
    return f"roles: Viewers, Operators, Administrators synced; users {', '.join(made) or 'already there'}"


SEEDS: list[Callable[[], str]] = [
    seed_staff,
    seed_notifications,
    seed_statuspage,
    seed_subscribers,
    seed_probes,
    seed_metrics,
    seed_alerts,
    seed_roles,
]
