"""Demo alerts: one firing, one acknowledged, one resolved, and a silence. Idempotent."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from alerts.defaults import default_rules, default_rules_create
from alerts.models import Alert, AlertRule, Silence
from alerts.services import alert_acknowledge, alert_raise, alert_resolve

DEMO = [
    ("demo:checkout-latency", "Checkout API p95 latency above 1 s", "critical", "firing"),
    ("demo:db-replica-lag", "Database replica lag above 30 s", "high", "acknowledged"),
    ("demo:disk-logs", "Disk /var/log above 90 %", "medium", "resolved"),
]


def seed_alerts() -> str:
    new_rules = default_rules_create()
    # The migration already made them on a fresh database: count what exists, not what was new.
    rules = AlertRule.objects.filter(name__in=[values["name"] for values in default_rules()]).count()
    made = 0
    operator = get_user_model().objects.filter(username="operator").first()
    for fingerprint, title, severity, status in DEMO:
        if Alert.objects.filter(fingerprint=fingerprint).exists():
            continue
        alert = alert_raise(
            fingerprint=fingerprint,
            title=title,
            severity=severity,
            alert_type=Alert.Type.MANUAL,
            message="Demo alert",
            actor_type="system",
            now=timezone.now() - timedelta(minutes=25),
        ).alert
        if status in ("acknowledged", "resolved"):
            alert_acknowledge(alert=alert, user=operator, note="Looking into it")
        if status == "resolved":
            alert_resolve(alert=alert, user=operator, note="Rotated logs", action_taken="logrotate forced")
        made += 1
    if not Silence.objects.filter(comment="Demo: nightly batch jobs are noisy").exists():
        Silence.objects.create(
            matchers=[{"label": "alertname", "op": "=~", "value": "Batch.*"}],
            ends_at=timezone.now() + timedelta(days=7),
            comment="Demo: nightly batch jobs are noisy",
        )
    return f"alerts: {rules} default rules ({new_rules} new) and {made} demo alerts created"
