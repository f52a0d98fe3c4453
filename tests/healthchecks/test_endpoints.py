import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from healthchecks.models import Heartbeat
from tests.conftest import run_manage
from tests.healthchecks.factories import HeartbeatFactory

pytestmark = pytest.mark.django_db


def test_it_answers_live_without_io(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_it_reports_ready_with_every_check_ok(client):
    response = client.get("/health/ready")
    body = response.json()
    assert response.status_code == 200, body
    assert set(body["checks"]) == {"database", "migrations", "cache", "broker"}
    assert all(check["status"] == "ok" and check["error"] is None for check in body["checks"].values())
    assert all(check["latency_ms"] >= 0 for check in body["checks"].values())
    assert "no-store" in response["Cache-Control"]


def test_it_fails_ready_naming_the_broker_on_a_closed_port(client, settings, closed_port):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port}/0"
    started = time.monotonic()
    response = client.get("/health/ready")
    assert time.monotonic() - started < 3
    assert response.status_code == 503
    assert response.json()["failed"] == ["broker"]
    assert "refused" in response.json()["checks"]["broker"]["error"].lower()


def test_it_fails_ready_naming_the_cache_on_a_closed_port(client, settings, closed_port):
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["failed"] == ["cache"]


def test_it_reports_the_database_down_within_three_seconds(closed_port):
    script = (
        "import json, time; from django.test import Client; t = time.monotonic();"
        "r = Client().get('/health/ready'); h = Client().get('/health');"
        "print(json.dumps([r.status_code, r.json(), h.status_code, h.json(), time.monotonic() - t]))"
    )
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        script,
        env={"DATABASE_URL": f"postgres://postgres@127.0.0.1:{closed_port}/vigil"},
    )
    ready_status, ready, overall_status, overall, seconds = json.loads(result.stdout.strip().splitlines()[-1])
    assert ready_status == 503 and "database" in ready["failed"]
    assert overall_status == 503 and overall["status"] == "down"
    assert seconds < 6  # two requests, each bounded by the 2 s check deadline


def test_it_is_degraded_but_serving_without_heartbeats(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert "no worker heartbeat" in response.json()["checks"]["heartbeats"]["error"]


@pytest.mark.django_db(transaction=True)  # the checks read from their own threads' connections
def test_it_is_ok_with_fresh_heartbeats(client):
    HeartbeatFactory(kind=Heartbeat.Kind.WORKER)
    HeartbeatFactory(kind=Heartbeat.Kind.BEAT)
    response = client.get("/health")
    checks = response.json()["checks"]
    assert checks["heartbeats"]["status"] == "ok", checks
    assert checks["database"]["status"] == "ok"


@pytest.mark.django_db(transaction=True)
def test_it_is_degraded_when_the_worker_heartbeat_is_stale(client, settings):
    settings.HEARTBEAT_INTERVAL = 10
    HeartbeatFactory(kind=Heartbeat.Kind.WORKER, last_seen=timezone.now() - timedelta(seconds=31))
    HeartbeatFactory(kind=Heartbeat.Kind.BEAT)
    body = client.get("/health").json()
    assert body["status"] == "degraded"
    assert "worker heartbeat is" in body["checks"]["heartbeats"]["error"]


def test_it_reports_system_degraded_over_a_threshold(client, settings):
    settings.MEMORY_USAGE_THRESHOLD = 0
    response = client.get("/health/system")
    system = response.json()["checks"]["system"]
    assert response.status_code == 200
    assert system["status"] == "degraded"
    assert "memory_percent" in system["error"]
    assert 0 < system["memory_percent"] <= 100


def test_it_reports_the_database_version_and_round_trip(client, django_db_blocker):
    response = client.get("/health/database")
    database = response.json()["checks"]["database"]
    assert response.status_code == 200
    assert database["server_version"]
    assert database["round_trip_ms"] >= 0


def test_it_refuses_detailed_health_to_anonymous_visitors(client):
    assert client.get("/health/detailed").status_code == 401


def test_it_refuses_detailed_health_to_non_staff(client, django_user_model):
    user = django_user_model.objects.create_user("visitor", password="pw-visitor-123")
    client.force_login(user)
    assert client.get("/health/detailed").status_code == 403


def test_it_shows_detailed_health_to_a_token(client, staff_token):
    response = client.get("/health/detailed", HTTP_AUTHORIZATION=f"Token {staff_token}")
    body = response.json()
    assert response.status_code == 200
    assert {"database", "migrations", "cache", "broker", "heartbeats", "system"} <= set(body["checks"])
    assert body["version"] == "0.1.0"
    assert body["uptime_seconds"] >= 0
    assert body["checks"]["broker"]["queue_depth"] >= 0
    assert "no-store" in response["Cache-Control"]
