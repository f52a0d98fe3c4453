import pytest
from django.test import Client
from rest_framework.test import APIClient

from config.models import OperationsConfig
from config.runtime_config import config_get, config_update
from tests.config.factories import role_user
from tests.notifications.factories import ChannelFactory


@pytest.fixture
def admin_api(db):
    client = APIClient()
    client.force_authenticate(role_user("administrator"))
    return client


@pytest.mark.django_db
def test_it_seeds_the_config_from_the_environment(settings):
    settings.CPU_USAGE_THRESHOLD = 77
    settings.ALERT_CHECK_INTERVAL = 45
    row = config_get()
    assert (row.cpu_usage_threshold_percent, row.alert_check_interval_seconds) == (77, 45)
    assert config_get().pk == row.pk and OperationsConfig.objects.count() == 1


def test_it_returns_thresholds_intervals_and_channels(admin_api):
    channel = ChannelFactory(name="Ops mail")
    data = admin_api.get("/api/operations/config").json()
    assert data["response_time_threshold_ms"] == 1000 and data["health_check_interval_seconds"] == 30
    assert {"id": channel.pk, "name": "Ops mail", "kind": channel.kind, "enabled": True} in data["channels"]


def test_it_updates_only_the_fields_given(admin_api):
    response = admin_api.put(
        "/api/operations/config",
        {"memory_usage_threshold_percent": 70, "metric_collection_interval_seconds": 120},
        format="json",
    )
    assert response.status_code == 200
    row = config_get()
    assert (row.memory_usage_threshold_percent, row.metric_collection_interval_seconds) == (70, 120)
    assert row.cpu_usage_threshold_percent == 80 and row.updated_by.username == "administrator"


def test_it_switches_channels(admin_api):
    channel = ChannelFactory()
    response = admin_api.put(
        "/api/operations/config", {"channels": [{"id": channel.pk, "enabled": False}]}, format="json"
    )
    assert response.status_code == 200
    channel.refresh_from_db()
    assert channel.enabled is False


@pytest.mark.parametrize(
    "body, field",
    [
        ({"cpu_usage_threshold_percent": 150}, "cpu_usage_threshold_percent"),
        ({"alert_check_interval_seconds": 1}, "alert_check_interval_seconds"),
        ({"response_time_threshold_ms": "fast"}, "response_time_threshold_ms"),
        ({"channels": [{"id": 999999, "enabled": False}]}, "channels"),
    ],
)
def test_it_refuses_bad_values_with_field_errors(admin_api, body, field):
    response = admin_api.put("/api/operations/config", body, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "Invalid input." and field in response.json()["errors"]


@pytest.mark.django_db
def test_it_lets_viewers_read_but_not_change_it():
    client = APIClient()
    client.force_authenticate(role_user("viewer"))
    assert client.get("/api/operations/config").status_code == 200
    assert (
        client.put("/api/operations/config", {"cpu_usage_threshold_percent": 50}, format="json").status_code
        == 403
    )


@pytest.mark.django_db(transaction=True)
def test_it_drives_the_system_health_thresholds():
    # Health checks run in threads with their own connections: the row must be committed.
    config_update(values={"cpu_usage_threshold_percent": 0, "memory_usage_threshold_percent": 0})
    body = Client().get("/health/system").json()
    assert body["checks"]["system"]["thresholds"]["memory_percent"] == 0
    assert body["checks"]["system"]["status"] == "degraded"
