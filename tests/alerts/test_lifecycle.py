from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from alerts.models import Alert
from alerts.retention import alerts_purge
from alerts.services import AlertTransitionError, alert_acknowledge, alert_raise, alert_reopen, alert_resolve
from tests.alerts.factories import AlertFactory

pytestmark = pytest.mark.django_db


def raise_alert(**kwargs):
    return alert_raise(**{"fingerprint": "disk:/", "title": "Disk full", "severity": "high", **kwargs})


def test_it_counts_a_repeat_instead_of_opening_a_second_alert():
    first = raise_alert(value=91)
    second = raise_alert(value=95)
    assert second.created is False and second.alert.pk == first.alert.pk
    assert second.alert.occurrence_count == 2 and second.alert.last_value == 95


def test_it_enforces_one_open_alert_per_fingerprint_in_the_database():
    AlertFactory(fingerprint="same")
    with pytest.raises(IntegrityError):
        AlertFactory(fingerprint="same")


def test_it_opens_a_new_alert_after_the_old_one_resolved():
    alert = raise_alert().alert
    alert_resolve(alert=alert)
    assert raise_alert().created is True


def test_it_refuses_to_acknowledge_a_resolved_alert():
    alert = alert_resolve(alert=raise_alert().alert)
    with pytest.raises(AlertTransitionError):
        alert_acknowledge(alert=alert)
    alert.refresh_from_db()
    assert alert.status == "resolved" and alert.acknowledged_at is None


def test_it_records_who_acknowledged_and_resolved(staff_user):
    alert = raise_alert().alert
    alert_acknowledge(alert=alert, user=staff_user, note="on it")
    alert_resolve(alert=alert, user=staff_user, note="rotated logs", action_taken="deleted old logs")
    alert.refresh_from_db()
    assert alert.acknowledged_by == staff_user and alert.acknowledgement_note == "on it"
    assert alert.resolved_by == staff_user and alert.action_taken == "deleted old logs"
    assert list(alert.events.values_list("kind", flat=True)) == ["fired", "acknowledged", "resolved"]


def test_it_reopens_a_resolved_alert():
    alert = alert_resolve(alert=raise_alert().alert)
    alert_reopen(alert=alert)
    alert.refresh_from_db()
    assert alert.status == "firing" and alert.resolved_at is None


def test_it_refuses_to_reopen_when_the_fingerprint_is_open_again():
    old = alert_resolve(alert=raise_alert().alert)
    raise_alert()
    with pytest.raises(AlertTransitionError):
        alert_reopen(alert=old)


def test_it_purges_old_resolved_alerts_in_batches(settings):
    settings.ALERTS_RETENTION_DAYS = 90
    old = timezone.now() - timedelta(days=91)
    for i in range(5):
        AlertFactory(status="resolved", resolved_at=old, fingerprint=f"old{i}")
    AlertFactory(status="resolved", resolved_at=timezone.now(), fingerprint="recent")
    AlertFactory(status="firing", fired_at=old, fingerprint="open")
    assert alerts_purge(batch_size=2) == {"resolved alerts": 5}
    assert set(Alert.objects.values_list("fingerprint", flat=True)) == {"recent", "open"}


def test_it_seeds_demo_alerts_idempotently():
    from alerts.demo import seed_alerts

    seed_alerts()
    seed_alerts()
    assert sorted(Alert.objects.values_list("status", flat=True)) == ["acknowledged", "firing", "resolved"]


def test_it_records_a_held_alert_without_notifying_it():
    alert = raise_alert(hold_reason="depends on database, which is down").alert
    assert alert.suppressed_reason == "depends on database, which is down"
    assert alert.events.filter(kind="suppressed").exists()


def test_it_is_purged_by_the_purge_old_data_job(settings):
    from config.retention import old_data_purge

    AlertFactory(status="resolved", resolved_at=timezone.now() - timedelta(days=400), fingerprint="ancient")
    results = dict(old_data_purge())
    assert results["resolved alerts"] == 1
    assert not Alert.objects.filter(fingerprint="ancient").exists()
