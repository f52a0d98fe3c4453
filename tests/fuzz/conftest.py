"""A small world of existing rows for the API fuzz, and `aim`, which points generated ids at it.

Schemathesis draws ids at random, so nearly every request to /alerts/{id} or with a
{"component": 3} body would stop at a 404 or a "no such object" 400 and never reach the services.
`aim` rewrites most small generated ids (path, query and the body's foreign keys) to ids of
rows that exist; the rest, and every odd value (negative, huge, not a number), go as drawn,
so unknown ids are still tried.
"""

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.text import slugify

# Path prefix -> the kind of row its {id} names.
PATH_KINDS = {
    "/api/operations/alert-rules/": "rule",
    "/api/operations/alerts/": "alert",
    "/api/operations/probes/": "probe",
    "/api/operations/silences/": "silence",
    "/api/status/admin/components/": "component",
    "/api/status/components/": "component",
    "/api/status/admin/incidents/": "incident",
    "/api/status/incidents/": "incident",
    "/api/status/admin/maintenance/": "maintenance",
}
# Body and query fields holding ids (one id or a list of them).
FIELD_KINDS = {
    "component": "component",
    "components": "component",
    "depends_on": "component",
    "group": "group",
    "channels": "channel",
    "rule": "rule",
}


@dataclass
class World:
    ids: dict[str, list[int]] = field(default_factory=dict)
    services: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)

    def aim_id(self, kind: str, value):
        """A small int (or, in a path or query, its digits) -> an existing id, except one in four."""
        ids = self.ids.get(kind)
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 5:
            number = int(value)
        elif type(value) is int and 0 <= value < 10_000:  # type(): bool is an int too
            number = value
        else:
            return value
        if not ids or number % 4 == 3:
            return value
        return str(ids[number % len(ids)]) if isinstance(value, str) else ids[number % len(ids)]

    def aim_field(self, name: str, value):
        kind = FIELD_KINDS[name]
        if isinstance(value, list):
            return [
                {**item, "id": self.aim_id(kind, item["id"])}
                if isinstance(item, dict) and "id" in item
                else self.aim_id(kind, item)
                for item in value
            ]
        if isinstance(value, dict) and name == "components":  # {"<component id>": "<status>"}
            return {self.aim_id(kind, key): status for key, status in value.items()}
        return self.aim_id(kind, value)

    def aim(self, case) -> None:
        kind = next((k for prefix, k in PATH_KINDS.items() if case.path.startswith(prefix)), None)
        params = case.path_parameters or {}
        if kind and "id" in params:
            params["id"] = self.aim_id(kind, params["id"])
        if isinstance(params.get("service"), str) and len(params["service"]) % 2 == 0:
            params["service"] = self.services[len(params["service"]) // 2 % len(self.services)]
        if isinstance(params.get("token"), str) and len(params["token"]) % 2 == 0:
            params["token"] = self.tokens[len(params["token"]) // 2 % len(self.tokens)]
        for values in (case.query, case.body):
            if isinstance(values, dict):
                for name in FIELD_KINDS.keys() & values.keys():
                    values[name] = self.aim_field(name, values[name])


@pytest.fixture
def staff_user(django_user_model):
    """tests/conftest.py's staff member (Administrators role), without a password: the fuzz
    authenticates with a token, and hashing a password costs half a second per operation."""
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user("staff", "staff@example.com", None, is_staff=True)
    user.groups.add(Group.objects.get(name="Administrators"))
    return user


@pytest.fixture
def world(db) -> World:
    from alerts.models import Alert
    from core.tokens import token_digest
    from statuspage import services
    from statuspage.models import ComponentStatus
    from subscribers.models import SubscriberStatus
    from tests.alerts.factories import AlertFactory, AlertRuleFactory, ChannelFactory, SilenceFactory
    from tests.healthchecks.factories import ProbeFactory
    from tests.statuspage.factories import ComponentFactory, ComponentGroupFactory
    from tests.subscribers.factories import SubscriberFactory

    now = timezone.now()
    group = ComponentGroupFactory()
    url = "http://127.0.0.1:9/ok"  # probed by nothing here: no probe round runs in these tests
    components = [
        ComponentFactory(group=group, health_check_url=url),
        ComponentFactory(health_check_url=url),
        ComponentFactory(name="REST API"),
    ]
    probes = [ProbeFactory(component=c) for c in components[:2]]
    channels = [ChannelFactory(), ChannelFactory()]
    rules = [AlertRuleFactory(), AlertRuleFactory(component=components[0])]
    alerts = [
        AlertFactory(rule=rules[0]),
        AlertFactory(status=Alert.Status.ACKNOWLEDGED),
        AlertFactory(status=Alert.Status.RESOLVED, resolved_at=now),
    ]
    incidents = [
        services.incident_create(
            title="API errors", message="Looking", components={components[2]: ComponentStatus.MAJOR_OUTAGE}
        ),
        services.incident_create(title="Old", message="Done", status="resolved"),
    ]
    maintenance = [
        services.maintenance_schedule(
            title="Upgrade",
            scheduled_for=now + timedelta(hours=1),
            scheduled_until=now + timedelta(hours=2),
            components=components[:1],
        ),
        services.maintenance_schedule(
            title="Now", scheduled_for=now - timedelta(minutes=5), scheduled_until=now + timedelta(hours=1)
        ),
    ]
    confirm_token = "fuzz-confirm-token-0123456789abcdef0123456789"
    pending = SubscriberFactory(
        status=SubscriberStatus.PENDING,
        confirmed_at=None,
        confirm_token_digest=token_digest(confirm_token),
        confirm_sent_at=now,
    )
    confirmed = SubscriberFactory(components=components[:1])
    return World(
        ids={
            "component": [c.pk for c in components],
            "group": [group.pk],
            "probe": [p.pk for p in probes],
            "channel": [c.pk for c in channels],
            "rule": [r.pk for r in rules],
            "alert": [a.pk for a in alerts],
            "silence": [SilenceFactory().pk],
            "incident": [i.pk for i in incidents],
            "maintenance": [m.pk for m in maintenance],
        },
        services=[slugify(c.name) for c in components],
        tokens=[confirm_token, pending.manage_token, confirmed.manage_token],
    )
