import pytest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.parser import text_string_to_metric_families

from config import prometheus
from healthchecks.models import Heartbeat
from tests.healthchecks.factories import HeartbeatFactory
from tests.monitoring.factories import MetricFactory

pytestmark = pytest.mark.django_db


def _families(response) -> dict:
    assert response.status_code == 200, response.content
    return {f.name: f for f in text_string_to_metric_families(response.content.decode())}


def test_it_refuses_a_scrape_without_token_or_allowed_address(client, settings):
    settings.METRICS_TOKEN = "s3cret"
    settings.METRICS_ALLOWED_IPS = []
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403


def test_it_exposes_vigil_state_in_the_prometheus_format(client, settings):
    settings.METRICS_TOKEN = "s3cret"
    HeartbeatFactory(kind=Heartbeat.Kind.WORKER)
    MetricFactory.create_batch(3)
    families = _families(client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret"))
    assert {
        "vigil_heartbeat_age_seconds",
        "vigil_celery_queue_depth",
        "vigil_metric_rows",
        "vigil_metric_points_ingested",
        "vigil_health_check_status",
    } <= set(families)
    ages = {s.labels["kind"]: s.value for s in families["vigil_heartbeat_age_seconds"].samples}
    assert 0 <= ages["worker"] < 60
    health = {
        (s.labels["check"], s.labels["status"]): s.value
        for s in families["vigil_health_check_status"].samples
    }
    assert health[("database", "ok")] == 1.0
    assert families["vigil_celery_queue_depth"].samples[0].value >= 0


def test_it_counts_metric_rows(client, settings):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.0/8"]
    MetricFactory.create_batch(3)
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE monitoring_metric")  # the gauge reads the planner's estimate there
    rows = {
        s.labels["table"]: s.value for s in _families(client.get("/metrics"))["vigil_metric_rows"].samples
    }
    assert rows["raw"] == 3


def test_it_accepts_a_staff_drf_token_but_not_a_plain_users(client, staff_token, django_user_model):
    from rest_framework.authtoken.models import Token

    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Token {staff_token}").status_code == 200
    plain = django_user_model.objects.create_user("plain", password="pw-plain-123")
    key = Token.objects.create(user=plain).key
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Token {key}").status_code == 403


def test_it_runs_collectors_other_apps_append_and_survives_a_broken_one(client, settings, monkeypatch):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]

    def alert_counts():
        family = GaugeMetricFamily("vigil_alerts_firing", "Firing alerts")
        family.add_metric([], 4)
        yield family

    def broken():
        raise RuntimeError("nope")

    monkeypatch.setattr(prometheus, "COLLECTORS", [broken, *prometheus.COLLECTORS, alert_counts])
    families = _families(client.get("/metrics"))
    assert families["vigil_alerts_firing"].samples[0].value == 4


def test_it_stops_at_start_up_on_a_bad_allowed_address():
    from tests.conftest import run_manage

    result = run_manage("check", env={"METRICS_ALLOWED_IPS": "10.0.0.0/8,not-an-ip"})
    assert result.returncode != 0
    assert "METRICS_ALLOWED_IPS" in result.stderr and "not-an-ip" in result.stderr


def test_it_exposes_open_alert_counts(client, staff_token):
    from alerts.services import alert_raise

    alert_raise(fingerprint="x", title="Disk full", severity="critical")
    body = client.get("/metrics", HTTP_AUTHORIZATION=f"Token {staff_token}").content.decode()
    assert 'vigil_alerts_open{severity="critical",status="firing"} 1.0' in body


def test_it_exposes_delivery_counts(client, staff_token):
    from notifications.services import message_enqueue

    message_enqueue(
        kind="test", subject="Hi", severity="low", dedup_key="k", channels=[], emails=["a@example.com"]
    )
    body = client.get("/metrics", HTTP_AUTHORIZATION=f"Token {staff_token}").content.decode()
    assert 'vigil_deliveries{kind="email",status="pending"} 1.0' in body
