"""Every API key scope against every staff endpoint and method: a key with one scope reaches
exactly the endpoints that scope names, and is refused (403, naming the scope it lacks) on all
the others. Endpoints come from the URL resolver, so a new one is covered at once; the table of
which scope a request needs is written out here as the documented rule (docs/security.md), not
read from the code that enforces it."""

import re

import pytest
from rest_framework.test import APIClient

from config.api_keys import SCOPES, api_key_create
from config.url_inventory import api_paths
from tests.config.factories import ops_world, role_user
from tests.config.test_api_permissions import OWN_ACCESS_RULES, PUBLIC, _fill, _methods

pytestmark = pytest.mark.django_db

ALERT_PATHS = re.compile(
    r"^/api/operations/(alerts|alert-rules|silences|paging-drills|integrations/alertmanager)(/|$)"
)


def documented_scope(path: str, method: str) -> str:
    if method in ("GET", "HEAD"):
        return "read"
    if path == "/api/operations/metrics":
        return "metrics:write"
    if re.match(r"^/api/operations/checks/\{[^}]+\}/ping$", path):
        return "checks:ping"
    if ALERT_PATHS.match(path):
        return "alerts:write"
    if path.startswith("/api/status/admin/"):
        return "statuspage:write"
    return "config:write"


def staff_endpoints() -> list[tuple[str, str]]:
    return [
        (path, method)
        for path, pattern in api_paths()
        # The agents' API takes agent keys only (tests/healthchecks/test_agent_api.py).
        if path not in OWN_ACCESS_RULES and not PUBLIC.match(path) and not path.startswith("/api/agent/")
        for method in _methods(pattern)
    ]


def test_the_documented_scopes_are_the_known_ones():
    needed = {documented_scope(path, method) for path, method in staff_endpoints()}
    assert needed <= set(SCOPES)
    assert {"read", "metrics:write", "alerts:write", "statuspage:write", "config:write"} <= needed


@pytest.mark.parametrize("scope", sorted(SCOPES))
def test_a_key_reaches_exactly_what_its_scope_names(scope):
    world = ops_world()
    # A superuser's key: the role allows everything, so only the scope can refuse.
    _, raw = api_key_create(user=role_user("superuser"), name=scope, scopes=[scope])
    api = APIClient(HTTP_AUTHORIZATION=f"Bearer {raw}")
    # Another key to act on, so that a revoke the scope allows does not revoke the key in use.
    spare, _ = api_key_create(user=role_user("viewer"), name="spare", scopes=["read"])
    wrong = []
    for path, method in staff_endpoints():
        url = path.replace("{pk}", str(spare.pk)) if "/api-keys/" in path else _fill(path, world)
        response = getattr(api, method.lower())(url, {}, format="json")
        # A HEAD answer has no body to name the scope in.
        named = method == "HEAD" or b"lacks the scope" in response.content
        refused = response.status_code == 403 and named
        allowed = documented_scope(path, method) == scope
        if refused == allowed or response.status_code in (401, 500):
            wrong.append(f"{method} {path}: {response.status_code} (scope {scope} allowed: {allowed})")
    assert not wrong, wrong
