"""Security headers on every response: Content-Security-Policy (with pages that need no inline
code), X-Frame-Options, Referrer-Policy, X-Content-Type-Options; HSTS only over TLS (the
production settings are checked in test_production.py, in a process started with DEBUG=0; every
staff page in test_staff_pages.py)."""

import pytest
from django.test import Client

from tests.config.factories import role_user
from tests.security.pages import inline_code

pytestmark = pytest.mark.django_db
API_DOCS = ("/api/docs/", "/api/redoc/")


def _public_pages(world) -> list[str]:
    subscriber = world["subscriber"]
    return [
        "/",
        "/history",
        f"/incidents/{world['incident'].pk}",
        f"/maintenance/{world['active_maintenance'].pk}",
        f"/api/status/unsubscribe/{subscriber.manage_token}",
        f"/api/status/manage/{subscriber.manage_token}",
        "/api/status/confirm/not-a-real-token-but-long-enough",
        "/no/such/page",
        *API_DOCS,
    ]


def check_page(response, path: str) -> list[str]:
    problems = []
    policy = response.get("Content-Security-Policy", "")
    for directive in ("default-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"):
        if directive not in policy:
            problems.append(f"{path}: CSP lacks {directive}")
    script_src = next((d for d in policy.split(";") if d.strip().startswith("script-src")), "")
    if "'self'" not in script_src or "unsafe" in script_src:
        problems.append(f"{path}: script-src is {script_src!r}")
    expected = {
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": ("strict-origin-when-cross-origin", "same-origin"),
    }
    for header, values in expected.items():
        if response.get(header) not in ((values,) if isinstance(values, str) else values):
            problems.append(f"{path}: {header} is {response.get(header)!r}")
    if "Strict-Transport-Security" in response:
        problems.append(f"{path}: HSTS over plain HTTP")
    if response.get("Content-Type", "").startswith("text/html"):
        scripts, styles = inline_code(response.content.decode())
        if scripts:
            problems.append(f"{path}: inline script {scripts[:2]}")
        strict_styles = "'unsafe-inline'" not in policy
        if styles and strict_styles:
            problems.append(f"{path}: inline style {styles[:2]} under a policy without 'unsafe-inline'")
    return problems


def test_it_sends_the_headers_on_public_pages_and_json(world):
    client = Client()
    problems = []
    for path in [*_public_pages(world), "/api/status", "/api/v2/summary.json", "/health/live"]:
        response = client.get(path)
        assert response.status_code in (200, 400, 404), (path, response.status_code)
        problems += check_page(response, path)
    assert not problems, problems


def test_it_sends_the_headers_on_the_admin_login_page():
    assert check_page(Client().get("/admin/login/"), "/admin/login/") == []


def test_it_keeps_the_strict_policy_off_the_api_docs_only(world):
    client = Client()
    for path in API_DOCS:
        assert "'unsafe-inline'" in client.get(path)["Content-Security-Policy"]
    assert "'unsafe-inline'" not in client.get("/")["Content-Security-Policy"]
    assert "'unsafe-inline'" not in client.get("/admin/login/")["Content-Security-Policy"]


def test_it_serves_the_browsable_api_with_the_docs_policy(world):
    client = Client()
    client.force_login(role_user("superuser"))
    response = client.get("/api/operations/alerts", HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert check_page(response, "browsable API") == []
    assert "'unsafe-inline'" in response["Content-Security-Policy"]


def test_it_reads_the_policy_from_settings(settings, world):
    settings.CONTENT_SECURITY_POLICY = "default-src 'none'"
    assert Client().get("/")["Content-Security-Policy"] == "default-src 'none'"


def test_it_sends_no_hsts_without_tls_even_on_a_secure_request():
    # The test settings are the development defaults (DEBUG=1 in the environment: no TLS).
    assert "Strict-Transport-Security" not in Client().get("/health/live", secure=True)
