"""The permission matrix: anonymous, viewer, operator, administrator and superuser × every API
endpoint × every method it answers. Endpoints come from the URL resolver, so a new one is
covered without touching this file; only a new *operator-writable* or *public* endpoint needs a
line below (the test then fails until someone decides)."""

import re

import pytest
from rest_framework.permissions import AllowAny
from rest_framework.test import APIClient

from config.url_inventory import api_paths
from tests.config.factories import ops_world, role_user

pytestmark = pytest.mark.django_db

# Paths anyone may call (DRF views among them must say AllowAny themselves).
PUBLIC = re.compile(
    r"^/(api/status(/incidents.*|/components/.*|/live|/stream|/subscribe|/confirm/.*|/unsubscribe/.*|/manage/.*)?"
    r"|api/v2/.*|api/schema/|api/docs/|api/redoc/(dist/.*)?|health(/live|/ready|/database|/system)?)$"
)
# Endpoints with their own access rule: /metrics (METRICS_TOKEN, METRICS_ALLOWED_IPS) and the
# probe agents' API (agent keys only; tests/healthchecks/test_agent_api.py).
OWN_ACCESS_RULES = {"/metrics", "/api/agent/register", "/api/agent/probes", "/api/agent/results"}
# Writes the Operators role may make (incidents, maintenance, alerts, silences, paging drills,
# components); the page's branding is the Administrators'.
OPERATOR_WRITES = re.compile(
    r"^/api/(status/admin/(?!branding)|operations/(alerts|silences|paging-drills|probes|integrations/alertmanager))"
)
# What every staff user manages for themselves, whatever their role: their own API keys, contact
# methods and notification rules (someone else's rows are a 404 to them, never a 403).
SELF_SERVICE = re.compile(r"^/api/operations/(api-keys|users/me/)")
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def _methods(pattern) -> list[str]:
    cls = getattr(pattern.callback, "cls", None)
    if cls is None:
        return ["GET"]
    actions = getattr(pattern.callback, "actions", None)
    if actions:
        return sorted(method.upper() for method in actions)
    return sorted(
        m.upper() for m in cls.http_method_names if m not in ("options", "head") and hasattr(cls, m)
    )


def _fill(path: str, world: dict) -> str:
    ids = [
        ("/alerts/", world["alert"].pk),
        ("/alert-rules/", world["rule"].pk),
        ("/silences/", world["silence"].pk),
        ("/components/", world["component"].pk),
        ("/incidents/", world["incident"].pk),
        ("/maintenance/", world["maintenance"].pk),
    ]
    for marker, pk in ids:
        if marker in path:
            return re.sub(r"\{[^}]+\}", str(pk), path, count=1)
    return re.sub(r"\{[^}]+\}", "1", path)


def _endpoints() -> list[tuple[str, str, object]]:
    return [
        (path, method, pattern)
        for path, pattern in api_paths()
        if path not in OWN_ACCESS_RULES
        for method in _methods(pattern)
    ]


def _call(client: APIClient, method: str, path: str):
    return getattr(client, method.lower())(path, {}, format="json")


def test_it_finds_the_api_endpoints():
    paths = {path for path, _, _ in _endpoints()}
    assert "/api/operations/dashboard" in paths and "/api/status/admin/incidents/{pk}" in paths


def test_it_lets_public_drf_endpoints_declare_allow_any():
    for path, pattern in api_paths():
        cls = getattr(pattern.callback, "cls", None)
        if cls is not None and PUBLIC.match(path):
            assert list(pattern.callback.initkwargs.get("permission_classes", cls.permission_classes)) == [
                AllowAny
            ], path


def test_it_refuses_anonymous_on_every_staff_endpoint():
    world = ops_world()
    client = APIClient()
    wrong = []
    for path, method, _ in _endpoints():
        response = _call(client, method, _fill(path, world))
        public = PUBLIC.match(path)
        if (public and response.status_code in (401, 403)) or (not public and response.status_code != 401):
            wrong.append(f"{method} {path}: {response.status_code}")
    assert not wrong, wrong


@pytest.mark.parametrize("role", ["viewer", "operator", "administrator", "superuser"])
def test_it_enforces_each_role_on_every_endpoint(role):
    world = ops_world()
    client = APIClient()
    client.force_authenticate(role_user(role))
    wrong = []
    for path, method, _ in _endpoints():
        if PUBLIC.match(path):
            continue
        if method not in UNSAFE or role in ("administrator", "superuser") or SELF_SERVICE.match(path):
            allowed = True
        elif role == "operator":
            allowed = bool(OPERATOR_WRITES.match(path))
        else:
            allowed = False
        response = _call(client, method, _fill(path, world))
        refused = response.status_code == 403
        if refused == allowed or response.status_code >= 500 or response.status_code == 401:
            wrong.append(f"{method} {path}: {response.status_code} (allowed: {allowed})")
    assert not wrong, wrong


def test_it_refuses_staff_without_a_role_on_model_endpoints():
    client = APIClient()
    client.force_authenticate(role_user("staff"))
    assert client.get("/api/operations/alerts").status_code == 403
    assert client.get("/api/operations/dashboard").status_code == 403
    assert client.put("/api/operations/config", {}, format="json").status_code == 403


def test_it_refuses_a_token_write_without_the_permission():
    from rest_framework.authtoken.models import Token

    world = ops_world()
    token = Token.objects.create(user=role_user("viewer"))
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.post(f"/api/operations/alerts/{world['alert'].pk}/acknowledge", {}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action."}
