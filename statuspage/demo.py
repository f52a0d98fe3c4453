"""Demo data: a small SaaS company's status page with 90 days of history. Idempotent.

History is written through the services with back-dated times, so the status-change records
and the uptime bars are exactly what real use would have produced.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from statuspage import services, uptime
from statuspage.models import Component, ComponentGroup, IncidentStatus

GROUPS = [
    (
        "Web & API",
        False,
        [
            ("Website", "Marketing site and docs", "website"),
            ("Dashboard", "app.example.com", "website"),
            ("REST API", "api.example.com", "api"),
            ("Webhooks", "Outgoing event deliveries", "service"),
        ],
    ),
    (
        "Infrastructure",
        False,
        [
            ("Database cluster", "Primary and replicas", "database"),
            ("Background jobs", "Imports, exports and reports", "service"),
            ("CDN", "Static assets and uploads", "network"),
        ],
    ),
    (
        "Integrations",
        True,
        [
            ("E-mail delivery", "Transactional e-mail", "third_party"),
            ("Slack notifications", "", "third_party"),
            ("Payments", "Card processing via our provider", "third_party"),
        ],
    ),
]
LONE = [("Single sign-on", "SAML and OIDC logins", "service")]

# (days ago, hour, title, {component: status}, [(minutes after start, status, message)])
PAST_INCIDENTS = [
    (
        83,
        14,
        "Dashboard login failures for some SSO users",
        {"Single sign-on": "partial_outage"},
        [
            (
                0,
                "investigating",
                "Some customers using SAML single sign-on cannot log in. We are investigating.",
            ),
            (
                25,
                "identified",
                "An expired signing certificate on one identity-provider connector caused the failures.",
            ),
            (
                50,
                "monitoring",
                "The certificate has been rotated. Logins are succeeding again; we are monitoring.",
            ),
            (95, "resolved", "This incident has been resolved."),
        ],
    ),
    (
        71,
        2,
        "Delayed webhook deliveries",
        {"Webhooks": "degraded_performance"},
        [
            (0, "investigating", "Webhook deliveries are delayed by up to 15 minutes."),
            (40, "monitoring", "A stuck queue consumer was restarted; the backlog is draining."),
            (80, "resolved", "All delayed webhooks have been delivered."),
        ],
    ),
    (
        58,
        9,
        "API outage in the EU region",
        {"REST API": "major_outage", "Dashboard": "partial_outage"},
        [
            (
                0,
                "investigating",
                "The REST API is returning 503 errors for most requests. We are investigating.",
            ),
            (
                18,
                "identified",
                "A faulty load-balancer configuration was rolled out. We are rolling it back.",
            ),
            (41, "monitoring", "The rollback is complete and error rates are back to normal."),
            (75, "resolved", "This incident has been resolved. A postmortem will follow."),
        ],
    ),
    (
        44,
        16,
        "Slow exports and reports",
        {"Background jobs": "degraded_performance"},
        [
            (0, "investigating", "Exports are taking longer than usual to complete."),
            (120, "resolved", "Extra workers were added and the queue is back to normal."),
        ],
    ),
    (
        31,
        11,
        "E-mail delivery delays at our provider",
        {"E-mail delivery": "partial_outage"},
        [
            (
                0,
                "identified",
                "Our e-mail provider reports delays. Password resets and invitations may arrive late.",
            ),
            (65, "monitoring", "The provider has applied a fix; queued mail is being delivered."),
            (110, "resolved", "E-mail delivery is back to normal."),
        ],
    ),
    (
        17,
        20,
        "Database failover caused brief errors",
        {"Database cluster": "major_outage", "REST API": "partial_outage", "Dashboard": "partial_outage"},
        [
            (0, "investigating", "We are seeing errors across the dashboard and API."),
            (9, "identified", "The primary database failed over to a replica after a hardware fault."),
            (22, "monitoring", "The new primary is serving traffic. We are watching replication closely."),
            (60, "resolved", "This incident has been resolved."),
        ],
    ),
    (
        6,
        7,
        "Intermittent card payment declines",
        {"Payments": "partial_outage"},
        [
            (0, "investigating", "Some card payments are being declined with a generic error."),
            (35, "identified", "Our payment provider confirmed a partial outage on their side."),
            (90, "resolved", "The provider resolved the issue; payments are succeeding again."),
        ],
    ),
    (
        2,
        13,
        "Slow dashboard page loads",
        {"Dashboard": "degraded_performance"},
        [
            (0, "investigating", "Dashboard pages are loading slowly for some customers."),
            (30, "resolved", "A slow database query was fixed; page loads are back to normal."),
        ],
    ),
]
POSTMORTEM = (
    "On the morning of the outage a load-balancer configuration change meant for the staging "
    "environment was applied to the EU production region. Health checks passed because they did not "
    "exercise the new routes, so the change rolled out to every node.\n\n"
    "We have added a production guard to the deploy tool and route-level health checks."
)


def _at(now, days_ago: int, hour: int):
    return (now - timedelta(days=days_ago)).replace(hour=hour, minute=12, second=0, microsecond=0)


@transaction.atomic
def seed_statuspage() -> str:
    if Component.objects.filter(name="REST API").exists():
        return "statuspage: demo company already there"
    now = timezone.now()
    born = now - timedelta(days=120)
    by_name: dict[str, Component] = {}
    for position, (group_name, collapsed, members) in enumerate(GROUPS):
        group = ComponentGroup.objects.create(name=group_name, position=position, collapsed=collapsed)
        for index, (name, description, kind) in enumerate(members):
            by_name[name] = Component.objects.create(
                name=name,
                description=description,
                type=kind,
                group=group,
                position=index,
                created_at=born,
                status_changed_at=born,
            )
    for name, description, kind in LONE:
        by_name[name] = Component.objects.create(
            name=name,
            description=description,
            type=kind,
            position=99,
            created_at=born,
            status_changed_at=born,
        )
    by_name["Dashboard"].depends_on.set([by_name["REST API"], by_name["Database cluster"]])

    for days_ago, hour, title, affected, timeline in PAST_INCIDENTS:
        start = _at(now, days_ago, hour)
        components = {by_name[name]: status for name, status in affected.items()}
        first_offset, first_status, first_message = timeline[0]
        incident = services.incident_create(
            title=title,
            message=first_message,
            status=first_status,
            components=components,
            started_at=start,
            notify=False,
        )
        for offset, status, message in timeline[1:]:
            services.incident_update_create(
                incident=incident,
                status=status,
                message=message,
                notify=False,
                components=components if status != IncidentStatus.RESOLVED else None,
                display_at=start + timedelta(minutes=offset),
            )
        if "API outage" in title:
            services.incident_postmortem_publish(incident=incident, body=POSTMORTEM)

    services.maintenance_schedule(
        title="Database cluster upgrade",
        description="Minor version upgrade of the database cluster.",
        scheduled_for=_at(now, 24, 3),
        scheduled_until=_at(now, 24, 5),
        components=[by_name["Database cluster"]],
        notify=False,
        record_history=True,
        at=_at(now, 31, 10),  # announced a week ahead, as a real window would be
    )

    in_three_days = (now + timedelta(days=3)).replace(hour=2, minute=0, second=0, microsecond=0)
    services.maintenance_schedule(
        title="Network maintenance at our primary data centre",
        description=(
            "Our hosting provider will replace core switches. The dashboard and API may see brief "
            "connection resets of a few seconds during the window."
        ),
        scheduled_for=in_three_days,
        scheduled_until=in_three_days + timedelta(hours=2),
        components=[by_name["Dashboard"], by_name["REST API"], by_name["CDN"]],
        notify=False,
    )

    active = services.incident_create(
        title="Elevated error rates on webhook deliveries",
        message="A share of webhook deliveries are failing with timeouts. We are investigating.",
        components={by_name["Webhooks"]: "partial_outage"},
        started_at=now - timedelta(minutes=42),
        notify=False,
    )
    services.incident_update_create(
        incident=active,
        status="identified",
        message="A downstream network provider is dropping connections. Failed deliveries are being retried "
        "automatically; no events have been lost.",
        components={by_name["Webhooks"]: "partial_outage"},
        display_at=now - timedelta(minutes=17),
        notify=False,
    )
    uptime.uptime_rollup(now=now)
    return (
        f"statuspage: {len(by_name)} components, {len(PAST_INCIDENTS) + 1} incidents, 2 maintenance windows"
    )
