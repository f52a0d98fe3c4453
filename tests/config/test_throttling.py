import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_it_throttles_public_json_per_address(settings):
    settings.PUBLIC_THROTTLE_RATES = {"public": 3}
    client = Client(REMOTE_ADDR="10.0.0.1")
    codes = [client.get("/api/v2/status.json").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = client.get("/api/status")
    assert response.json()["detail"].startswith("Request was throttled")
    assert 0 < int(response["Retry-After"]) <= 60


def test_it_counts_each_address_apart(settings):
    settings.PUBLIC_THROTTLE_RATES = {"public": 1}
    Client(REMOTE_ADDR="10.0.0.1").get("/api/status")
    assert Client(REMOTE_ADDR="10.0.0.2").get("/api/status").status_code == 200


def test_it_leaves_staff_api_and_pages_alone(settings):
    settings.PUBLIC_THROTTLE_RATES = {"public": 1}
    client = Client(REMOTE_ADDR="10.0.0.1")
    assert [client.get("/health/live").status_code for _ in range(3)] == [200, 200, 200]
    assert [client.get("/api/operations/alerts").status_code for _ in range(3)] == [401, 401, 401]


def test_it_can_be_turned_off(settings):
    settings.PUBLIC_THROTTLE_RATES = {"public": 0}
    client = Client(REMOTE_ADDR="10.0.0.1")
    assert {client.get("/api/status").status_code for _ in range(5)} == {200}


def test_it_trusts_x_forwarded_for_only_when_told(settings):
    settings.PUBLIC_THROTTLE_RATES = {"public": 1}
    settings.THROTTLE_TRUST_X_FORWARDED_FOR = True
    client = Client(REMOTE_ADDR="10.0.0.9")
    assert client.get("/api/status", HTTP_X_FORWARDED_FOR="1.1.1.1").status_code == 200
    assert client.get("/api/status", HTTP_X_FORWARDED_FOR="2.2.2.2").status_code == 200
    # The last entry is the one the proxy wrote; what the client put before it is not believed.
    assert client.get("/api/status", HTTP_X_FORWARDED_FOR="9.9.9.9, 1.1.1.1").status_code == 429


def test_it_exempts_loopback_by_default(settings):
    settings.PUBLIC_THROTTLE_RATES = {"public": 1}
    client = Client(REMOTE_ADDR="127.0.0.1")
    assert {client.get("/api/status").status_code for _ in range(3)} == {200}


def test_it_does_not_throttle_the_staff_status_api(settings):
    settings.PUBLIC_THROTTLE_RATES = {"public": 1}
    client = Client(REMOTE_ADDR="10.0.0.1")
    assert [client.get("/api/status/admin/components").status_code for _ in range(2)] == [401, 401]
