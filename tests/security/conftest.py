"""Shared pieces of the security checks: a world with a row in every table the admin and the API
write to, and a snapshot of the database to prove that a refused request changed nothing."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from alerts.drills import drill_start
from alerts.models import AlertMessage
from config.mfa import services as services_mfa
from config.models import AuditEntry, ConfigApply, SecretReference, SsoIdentity, WebAuthnCredential
from config.runtime_config import config_get
from healthchecks.agents.models import ProbeLocationState
from healthchecks.agents.services import agent_key_create, location_create, quorum_set
from healthchecks.models import ProbeResult
from healthchecks.pings.models import CheckProject, Ping
from healthchecks.pings.services import check_create, check_ping
from monitoring import sketch
from monitoring.models import HourNameRollup, HourRollup, MinuteNameRollup, MinuteRollup, RollupCursor
from notifications.models import StaffNotification
from oncall.models import ContactMethod, EscalationPolicy, NotificationRule
from oncall.policies import StepSpec, policy_save
from oncall.services import calendar_feed_issue
from reports.models import ReportRun, ResponseBreach
from statuspage.models import Component
from tests.backups.factories import BackupVerificationFactory
from tests.config.factories import ops_world, role_user
from tests.healthchecks.factories import HeartbeatFactory, ProbeFactory
from tests.monitoring.factories import MetricFactory
from tests.oncall.factories import daily_layer
from tests.oncall.factories import schedule as oncall_schedule
from tests.reports.factories import (
    BusinessCalendarFactory,
    ObjectiveFactory,
    ReportFactory,
    ResponseTargetFactory,
)
from tests.subscribers.factories import SubscriberFactory

# What every request may touch without it being a write anyone made: the login session.
NOT_COMPARED = {"sessions.session"}


def full_world() -> dict:
    """ops_world() plus one row of every other model the admin lists, so every change and
    delete URL has a real object behind it."""
    world = ops_world()
    probe = ProbeFactory(component=world["component"])
    now = timezone.now()
    rollup = {
        "bucket_start": now.replace(second=0, microsecond=0),
        "name": "cpu.percent",
        "metric_type": "system",
        "category": "cpu",
        "count": 1,
        "total": 1.0,
        "minimum": 1.0,
        "maximum": 1.0,
        "sketch": sketch.encode_counts({sketch.value_code(1.0): 1}),
    }
    name_rollup = {
        k: rollup[k] for k in ("bucket_start", "name", "count", "total", "minimum", "maximum", "sketch")
    }
    world.update(
        probe=probe,
        probe_result=ProbeResult.objects.create(probe=probe, ok=True, status_code=200, latency_ms=3),
        heartbeat=HeartbeatFactory(),
        subscriber=SubscriberFactory(components=[world["component"]]),
        metric=MetricFactory(),
        minute_rollup=MinuteRollup.objects.create(**rollup),
        hour_rollup=HourRollup.objects.create(**rollup),
        minute_name_rollup=MinuteNameRollup.objects.create(**name_rollup),
        hour_name_rollup=HourNameRollup.objects.create(**name_rollup),
        cursor=RollupCursor.objects.create(resolution="minute", rolled_up_until=now - timedelta(minutes=1)),
        notice=StaffNotification.objects.create(title="Something failed", dedup_key="security-notice"),
        config=config_get(),
        alert_message=AlertMessage.objects.create(alert=world["alert"], message=world["delivery"].message),
    )
    project = CheckProject.objects.create(name="ops")
    check = check_create(name="nightly backup", project=project, slug="backup")
    location = location_create(name="Frankfurt")
    probe.locations.add(location)
    world.update(
        location=location,
        agent_key=agent_key_create(location=location, name="edge")[0],
        location_state=ProbeLocationState.objects.create(
            probe=probe, location=location, verdict="operational"
        ),
        quorum=quorum_set(component=world["component"], locations_required=1),
        check_project=project,
        check=check,
        ping=check_ping(check=check, kind=Ping.Kind.SUCCESS),
    )
    admin_user = role_user("administrator")
    world.update(
        token=Token.objects.create(user=admin_user),
        audit=AuditEntry.objects.create(
            actor=admin_user,
            actor_name=admin_user.username,
            via=AuditEntry.Via.ADMIN,
            method="POST",
            path="/admin/",
            action="update",
            content_type=ContentType.objects.get_for_model(Component),
            object_id=str(world["component"].pk),
            object_repr=str(world["component"]),
        ),
        sso_identity=SsoIdentity.objects.create(
            user=admin_user, issuer="https://idp.example.com", subject="a1"
        ),
    )
    world.update(
        schedule=oncall_schedule(
            layers=[daily_layer(admin_user)],
            overrides=[{"user": admin_user, "starts_at": now, "ends_at": now + timedelta(hours=1)}],
        ),
        calendar_token=calendar_feed_issue(user=admin_user),
    )
    contact_method = ContactMethod.objects.create(
        user=admin_user, kind="email", address="admin@example.com", verified_at=now
    )
    from config.api_keys import api_key_create

    world.update(
        api_key=api_key_create(user=admin_user, name="Security key", scopes=["read"])[0],
        contact_method=contact_method,
        notification_rule=NotificationRule.objects.create(
            user=admin_user, urgency="high", contact_method=contact_method
        ),
        escalation_policy=policy_save(
            policy=EscalationPolicy(name="Security policy"),
            steps=[
                StepSpec(level=1, escalate_after_minutes=5, users=[admin_user], schedules=[world["schedule"]])
            ],
        ),
    )
    world.update(paging_drill=drill_start(policy=world["escalation_policy"], user=admin_user))
    totp = TOTPDevice.objects.create(user=admin_user, name="Phone", confirmed=True)
    world.update(
        totp_device=totp,
        recovery_codes=services_mfa.recovery_codes_generate(user=admin_user),
        security_key=WebAuthnCredential.objects.create(
            user=admin_user, name="YubiKey", credential_id="c2VjdXJpdHkta2V5", public_key=b"\xa5\x01\x02"
        ),
    )
    world.update(backup_verification=BackupVerificationFactory())
    world.update(backup=world["backup_verification"].backup)
    report = ReportFactory()
    world.update(
        business_calendar=BusinessCalendarFactory(),
        objective=ObjectiveFactory(component=world["component"]),
        response_target=ResponseTargetFactory(),
        response_breach=ResponseBreach.objects.create(
            alert=world["alert"], kind="acknowledge", severity="high", target_minutes=5, due_at=now
        ),
        report=report,
        report_run=ReportRun.objects.create(report=report, period_start=now.date(), period_end=now.date()),
    )
    from datetime import time

    from statuspage import services as status_services
    from statuspage.schedules.services import schedule_create

    world.update(
        incident_template=status_services.incident_template_create(
            name="Database down",
            title="Database down",
            message="We are looking into it.",
            components={world["component"]: "major_outage"},
        ),
        maintenance_schedule=schedule_create(
            title="Monthly patching",
            rrule="FREQ=MONTHLY;BYDAY=1SU",
            start_time=time(2),
            duration=timedelta(hours=2),
            time_zone="Europe/Berlin",
            notify=False,  # its windows would mail the world's subscriber
        ),
        branding=status_services.branding_update(values={"page_title": "Example Status"}),
    )
    # Configuration as code: what one apply recorded, and a secret it took from the environment.
    world.update(
        config_apply=ConfigApply.objects.create(
            actor=admin_user, actor_name="administrator", via="api", created=1
        ),
        secret_reference=SecretReference.objects.create(
            section="channels",
            key=world["channel"].name,
            field="token",
            variable="OPS_TOKEN",
            value_digest="0" * 64,
        ),
    )
    return world


def db_snapshot() -> dict[str, list[dict]]:
    """Every row of every table (many-to-many tables too), by model label."""
    snapshot = {}
    for model in apps.get_models(include_auto_created=True):
        label = model._meta.label_lower
        if label in NOT_COMPARED or model._meta.proxy:
            continue
        snapshot[label] = list(model._base_manager.order_by("pk").values())
    return snapshot


def db_changes(before: dict, after: dict) -> list[str]:
    return [label for label in before if before[label] != after.get(label)]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Users are made in every test; the default hasher costs a quarter second each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db) -> dict:
    return full_world()
