"""API keys: shown once, stored as a digest, held to their scopes, expiring and revocable, accepted
as `Bearer` or `Token` in any case; the older DRF tokens keep every scope."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from alerts.models import Alert
from config.api_keys import api_key_create, api_key_revoke
from config.models import ApiKey, AuditEntry
from core.tokens import token_digest
from monitoring.models import Metric
from tests.alerts.factories import AlertFactory
from tests.config.factories import role_user

pytestmark = pytest.mark.django_db
POINT = {"name": "orders", "value": 3, "metric_type": "business", "category": "throughput"}


def keyed(raw: str, scheme: str = "Bearer") -> APIClient:
    return APIClient(HTTP_AUTHORIZATION=f"{scheme} {raw}")


def test_a_key_made_through_the_api_is_shown_once_and_stored_as_a_digest():
    admin = role_user("administrator")
    api = APIClient()
    api.force_authenticate(admin)
    answer = api.post(
        "/api/operations/api-keys", {"name": "ingest on web-1", "scopes": ["metrics:write"]}, format="json"
    )
    assert answer.status_code == 201, answer.json()
    raw = answer.json()["key"]
    key = ApiKey.objects.get()
    assert raw.startswith(key.prefix) and key.prefix.startswith("vgl_")
    assert key.key_digest == token_digest(raw) and raw not in str(ApiKey.objects.values().get())
    listed = api.get("/api/operations/api-keys").json()["results"][0]
    assert "key" not in listed and listed["prefix"] == key.prefix and listed["state"] == "active"
    assert listed["scopes"] == ["metrics:write"]


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "Token", "token", "tOkEn"])
def test_either_scheme_in_any_case_is_accepted(scheme):
    _, raw = api_key_create(user=role_user("administrator"), name="ingest", scopes=["metrics:write"])
    response = keyed(raw, scheme).post("/api/operations/metrics", POINT, format="json")
    assert response.status_code == 201, response.json()
    assert Metric.objects.count() == 1


def test_an_ingest_key_cannot_acknowledge_an_alert_and_the_answer_names_the_scope():
    alert = AlertFactory(severity="critical")
    _, raw = api_key_create(user=role_user("superuser"), name="ingest", scopes=["metrics:write"])
    api = keyed(raw)
    response = api.post(f"/api/operations/alerts/{alert.pk}/acknowledge", {}, format="json")
    assert response.status_code == 403
    assert "alerts:write" in response.json()["detail"]
    assert Alert.objects.get(pk=alert.pk).status == "firing"
    # Nor read: reading is a scope of its own.
    assert api.get("/api/operations/alerts").status_code == 403
    # Public endpoints answer a request with any key as they answer one without.
    assert api.get("/api/status").status_code == 200


def test_a_scope_never_widens_the_role():
    alert = AlertFactory(severity="critical")
    _, raw = api_key_create(user=role_user("viewer"), name="wide", scopes=["alerts:write", "read"])
    api = keyed(raw)
    assert api.get("/api/operations/alerts").status_code == 200
    assert api.post(f"/api/operations/alerts/{alert.pk}/acknowledge", {}, format="json").status_code == 403


def test_an_alerts_key_acknowledges_and_alertmanager_sends_bearer():
    alert = AlertFactory(severity="critical")
    _, raw = api_key_create(user=role_user("operator"), name="am", scopes=["alerts:write"])
    api = keyed(raw)
    assert api.post(f"/api/operations/alerts/{alert.pk}/acknowledge", {}, format="json").status_code == 200
    payload = {
        "version": "4",
        "status": "firing",
        "alerts": [{"status": "firing", "labels": {"alertname": "Disk"}, "startsAt": "2026-03-02T12:00:00Z"}],
    }
    response = api.post("/api/operations/integrations/alertmanager", payload, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["fired"] == 1


def test_an_expired_key_gets_401_saying_so():
    key, raw = api_key_create(
        user=role_user("operator"),
        name="short",
        scopes=["read"],
        expires_at=timezone.now() + timedelta(hours=1),
    )
    assert keyed(raw).get("/api/operations/alerts").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        response = keyed(raw).get("/api/operations/alerts")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"] and key.prefix in response.json()["detail"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_key_gets_401_at_once():
    key, raw = api_key_create(user=role_user("operator"), name="gone", scopes=["read"])
    api_key_revoke(key=key)
    response = keyed(raw).get("/api/operations/alerts")
    assert response.status_code == 401 and "revoked" in response.json()["detail"]


def test_a_wrong_or_malformed_key_gets_401():
    for header in ("Bearer vgl_AAAAAAAA_" + "B" * 40, "Bearer", "Bearer a b", "Token nope"):
        response = APIClient(HTTP_AUTHORIZATION=header).get("/api/operations/alerts")
        assert response.status_code == 401, header


def test_a_legacy_token_keeps_every_scope_with_either_scheme():
    alert = AlertFactory(severity="critical")
    token = Token.objects.create(user=role_user("operator"))
    for scheme in ("Token", "Bearer"):
        api = APIClient(HTTP_AUTHORIZATION=f"{scheme} {token.key}")
        assert api.get("/api/operations/alerts").status_code == 200
    response = api.post(f"/api/operations/alerts/{alert.pk}/acknowledge", {}, format="json")
    assert response.status_code == 200


def test_last_use_is_recorded_with_the_address_at_most_once_a_minute(django_assert_num_queries):
    key, raw = api_key_create(user=role_user("operator"), name="used", scopes=["read"])
    api = APIClient(HTTP_AUTHORIZATION=f"Bearer {raw}", REMOTE_ADDR="192.0.2.7")
    api.get("/api/operations/alerts")
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None and key.last_used_from == "192.0.2.7"
    api.get("/api/operations/alerts")
    key.refresh_from_db()
    assert key.last_used_at == first
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        api.get("/api/operations/alerts")
    key.refresh_from_db()
    assert key.last_used_at > first


def test_create_and_revoke_are_in_the_audit_log():
    api = APIClient()
    api.force_authenticate(role_user("operator"))
    made = api.post("/api/operations/api-keys", {"name": "ci", "scopes": ["read"]}, format="json").json()
    assert (
        api.post(f"/api/operations/api-keys/{made['id']}/revoke", format="json").json()["state"] == "revoked"
    )
    entries = AuditEntry.objects.filter(content_type__model="apikey").order_by("at", "id")
    assert [e.action for e in entries] == ["create", "update"]
    assert "revoked_at" in entries[1].changes
    assert made["key"] not in str(list(entries.values()))


def test_a_key_cannot_mint_a_wider_key_nor_a_user_one_for_someone_else():
    operator = role_user("operator")
    _, raw = api_key_create(user=operator, name="narrow", scopes=["config:write"])
    response = keyed(raw).post(
        "/api/operations/api-keys", {"name": "x", "scopes": ["alerts:write"]}, format="json"
    )
    assert response.status_code == 403
    api = APIClient()
    api.force_authenticate(operator)
    role_user("viewer")
    response = api.post(
        "/api/operations/api-keys", {"name": "x", "scopes": ["read"], "username": "viewer"}, format="json"
    )
    assert response.status_code == 403
    assert ApiKey.objects.count() == 1


def test_users_see_only_their_own_keys_and_administrators_see_all():
    mine, _ = api_key_create(user=role_user("operator"), name="mine", scopes=["read"])
    theirs, _ = api_key_create(user=role_user("viewer"), name="theirs", scopes=["read"])
    api = APIClient()
    api.force_authenticate(mine.user)
    assert [k["name"] for k in api.get("/api/operations/api-keys").json()["results"]] == ["mine"]
    assert api.get(f"/api/operations/api-keys/{theirs.pk}").status_code == 404
    assert api.post(f"/api/operations/api-keys/{theirs.pk}/revoke", format="json").status_code == 404
    api.force_authenticate(role_user("administrator"))
    assert len(api.get("/api/operations/api-keys").json()["results"]) == 2


def test_bad_input_names_the_field():
    api = APIClient()
    api.force_authenticate(role_user("operator"))
    for body, field in (
        ({"name": "x", "scopes": ["everything"]}, "scopes"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"scopes": ["read"]}, "name"),
        ({"name": "x", "scopes": ["read"], "expires_at": "2000-01-01T00:00:00Z"}, "expires_at"),
    ):
        response = api.post("/api/operations/api-keys", body, format="json")
        assert response.status_code == 400 and field in str(response.json()), (body, response.json())
    assert ApiKey.objects.count() == 0


def test_the_admin_makes_a_key_shows_it_once_and_revokes_it():
    user = role_user("operator")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get("/admin/config/apikey/add/")
    assert page.status_code == 200
    csrf = page.cookies["csrftoken"].value
    response = client.post(
        "/admin/config/apikey/add/",
        {
            "name": "deploy hook",
            "user": user.pk,
            "scopes": ["read", "statuspage:write"],
            "csrfmiddlewaretoken": csrf,
        },
    )
    assert response.status_code == 200
    key = ApiKey.objects.get()
    text = response.content.decode()
    raw = text.split('id="new-api-key"', 1)[1].split(">", 1)[1].split("<", 1)[0]
    assert token_digest(raw) == key.key_digest and key.scopes == ["read", "statuspage:write"]
    assert raw not in client.get(f"/admin/config/apikey/{key.pk}/change/").content.decode()
    response = client.post(
        "/admin/config/apikey/",
        {"action": "revoke", "_selected_action": [key.pk], "csrfmiddlewaretoken": csrf},
    )
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_prometheus_takes_a_read_key_as_bearer(settings):
    settings.METRICS_ALLOWED_IPS = []
    settings.METRICS_TOKEN = ""
    _, reader = api_key_create(user=role_user("viewer"), name="prometheus", scopes=["read"])
    _, writer = api_key_create(user=role_user("operator"), name="ingest", scopes=["metrics:write"])
    assert Client(HTTP_AUTHORIZATION=f"Bearer {reader}").get("/metrics").status_code == 200
    assert Client(HTTP_AUTHORIZATION=f"Bearer {writer}").get("/metrics").status_code in (401, 403)
