"""Users per role and one row of each kind the console shows, for the console's tests."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from config.roles import ADMINISTRATORS, OPERATORS, VIEWERS
from notifications.models import Delivery, Message
from statuspage import services as status_services
from tests.alerts.factories import AlertFactory, AlertRuleFactory, SilenceFactory
from tests.notifications.factories import ChannelFactory
from tests.statuspage.factories import ComponentFactory, ComponentGroupFactory, MaintenanceFactory

ROLES = {"viewer": VIEWERS, "operator": OPERATORS, "administrator": ADMINISTRATORS}


def role_user(role: str):
    """role: viewer, operator, administrator, superuser or staff (staff with no role)."""
    User = get_user_model()
    if role == "superuser":
        return User.objects.create_superuser("root", "root@example.com", "pw-root-12345")
    user = User.objects.create_user(role, f"{role}@example.com", f"pw-{role}-12345", is_staff=True)
    if role in ROLES:
        user.groups.add(Group.objects.get(name=ROLES[role]))
    return user


def failed_delivery(channel=None, n: int = 0) -> Delivery:
    message = Message.objects.create(kind="test", subject=f"Subject {n}", dedup_key=f"console-test-{n}")
    return Delivery.objects.create(
        message=message,
        channel=channel,
        kind="email",
        recipient=f"ops{n}@example.com",
        idempotency_key=f"console-test-{n}",
        status=Delivery.Status.FAILED,
        attempts=3,
        last_error="550 no such user",
        give_up_at=timezone.now() + timedelta(hours=1),
    )


def ops_world() -> dict:
    """One of each: component (+group), incident, maintenance (scheduled and in progress),
    alert rule, firing alert, silence, channel, failed delivery."""
    group = ComponentGroupFactory()
    component = ComponentFactory(group=group)
    incident = status_services.incident_create(
        title="API errors", message="Looking into it", components={component: "partial_outage"}
    )
    scheduled = MaintenanceFactory()
    active = MaintenanceFactory(title="Database upgrade")
    status_services.maintenance_start(maintenance=active)
    rule = AlertRuleFactory()
    alert = AlertFactory(rule=rule, severity="critical", title="CPU high")
    channel = ChannelFactory()
    return {
        "group": group,
        "component": component,
        "incident": incident,
        "maintenance": scheduled,
        "active_maintenance": active,
        "rule": rule,
        "alert": alert,
        "silence": SilenceFactory(),
        "channel": channel,
        "delivery": failed_delivery(channel),
    }


def configured_world() -> dict:
    """One of everything configuration as code covers, with references between them and a
    secret of each kind (config.configcode): what an export should carry over whole."""
    from alerts.rules import alert_rule_save
    from healthchecks.probes.services import probe_configure
    from notifications.models import Channel
    from notifications.services import channel_save
    from oncall.models import EscalationPolicy
    from oncall.policies import StepSpec, policy_save

    group = ComponentGroupFactory(name="Core", position=1)
    database = ComponentFactory(name="Database", group=group, position=2, type="database")
    api = status_services.component_create(
        name="API", group=group, health_check_url="https://api.example.com/health", depends_on=[database]
    )
    webhook = channel_save(
        channel=Channel(name="Deploys", kind="webhook", url="https://receiver.example/hook", secret="sign-me")
    )
    mail = ChannelFactory(name="Ops mail", recipients="ops@example.com")
    policy = policy_save(
        policy=EscalationPolicy(name="Primary", repeat=1),
        steps=[StepSpec(level=1, escalate_after_minutes=5, channels=[mail, webhook])],
    )
    rule = alert_rule_save(
        rule=AlertRuleFactory.build(name="CPU high", threshold=90.5, tags={"host": "web-1"}),
        channels=[mail],
        component=api,
        escalation_policy=policy,
    )
    http = probe_configure(component=api, kind="http", keyword="ok", basic_auth_password="pw-probe")
    tcp = probe_configure(component=database, kind="tcp", host="db.example.com", port=5432)
    template = status_services.incident_template_create(
        name="Database down",
        title="Database trouble",
        message="We are **on it**.",
        components={database: "major_outage"},
    )
    silence = SilenceFactory(
        ends_at=timezone.now() + timedelta(days=1),
        comment="deploy window",
        starts_at=timezone.now().replace(microsecond=0),
    )
    return {
        "group": group,
        "database": database,
        "api": api,
        "webhook": webhook,
        "mail": mail,
        "policy": policy,
        "rule": rule,
        "http_probe": http,
        "tcp_probe": tcp,
        "template": template,
        "silence": silence,
    }
