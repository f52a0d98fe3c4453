"""Anonymous visitors and the Viewers role cannot write anything: every unsafe API operation, every
admin add / change / delete / password URL, every admin action and every dashboard quick action
is refused, and the database is exactly as it was afterwards.

Operations come from the URL resolver and the admin registry (tests/security/inventory.py), and
the OpenAPI schema is checked against them, so a new endpoint is covered without editing this file."""

import re

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.config.factories import role_user
from tests.security.conftest import db_changes, db_snapshot
from tests.security.inventory import (
    AGENT_WRITES,
    OWN_ROWS,
    OWN_ROWS_MODELS,
    PUBLIC_WRITES,
    UNSAFE,
    admin_models,
    admin_url_names,
    api_writes,
    fill,
)

pytestmark = pytest.mark.django_db

# A body that would be valid for most endpoints, so a refusal is the permission's and not a
# validation error (a 400 fails these tests).
BODY = {
    "title": "Written by someone who may not",
    "name": "Written by someone who may not",
    "message": "no",
    "status": "resolved",
    "component": 1,
}
# Admin routes that are not a write on Vigil's data: reading pages, logging in and out, and a
# staff member changing their own password.
ADMIN_NOT_WRITES = {
    "index",
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "autocomplete",
    "jsi18n",
    "view_on_site",
    "app_list",
    # The uptime export page only reads (GET; any other method is a 405).
    "reports_uptime_export",
}
# Admin actions that only read (or only mark the user's own inbox as read).
READ_ONLY_ACTIONS = {"export_csv", "mark_read"}


def _shape(path: str) -> str:
    """A path with its parameters unnamed: the schema says {id} where the resolver says {pk}."""
    return re.sub(r"\{[^}]+\}", "{}", path).rstrip("/") or "/"


def _schema_writes() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (_shape(path), method.upper())
        for path, operations in schema["paths"].items()
        for method in operations
        if method.upper() in UNSAFE and not PUBLIC_WRITES.match(path) and not AGENT_WRITES.match(path)
    }


def test_it_knows_every_write_the_schema_describes():
    served = {(_shape(path), method) for path, method, _ in api_writes()}
    missing = _schema_writes() - served
    assert not missing, f"the schema describes writes the resolver does not list: {missing}"
    assert ("/api/operations/alerts/{}/acknowledge", "POST") in served


def _api_refusals(client, world, *, expected: int) -> list[str]:
    wrong = []
    for path, method, declared in api_writes():
        response = getattr(client, method.lower())(fill(path, world), BODY, format="json")
        allowed = (expected,) if declared else (expected, 405)
        if expected == 403 and OWN_ROWS.match(path):
            allowed = (400, 404)  # their own rows only: someone else's is not there, BODY is not a row
        if response.status_code not in allowed:
            wrong.append(f"{method} {path}: {response.status_code}")
        elif response.status_code == 405 and "GET" not in response.get("Allow", ""):
            wrong.append(f"{method} {path}: 405 without the methods it allows")
    return wrong


def _enforcing_client(**headers) -> APIClient:
    """A client that checks CSRF as a browser's request is checked (Django's test client skips
    the check unless told), so a refusal here is the one a real client gets."""
    return APIClient(enforce_csrf_checks=True, **headers)


def _browser_client(user=None) -> Client:
    """An enforcing client that sends its CSRF token, as a staff member's browser does: the
    refusal must come from the login or the permission, not from a missing token."""
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    client.get("/admin/" if user is not None else "/admin/login/")
    client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
    return client


def test_it_refuses_every_api_write_to_anonymous(world):
    before = db_snapshot()
    wrong = _api_refusals(_enforcing_client(), world, expected=401)
    assert not wrong, wrong
    assert db_changes(before, db_snapshot()) == []


def test_it_refuses_every_api_write_to_a_viewer_with_a_token(world):
    token = Token.objects.create(user=role_user("viewer"))
    before = db_snapshot()
    wrong = _api_refusals(_enforcing_client(HTTP_AUTHORIZATION=f"Token {token.key}"), world, expected=403)
    assert not wrong, wrong
    assert db_changes(before, db_snapshot()) == []


def test_it_refuses_every_api_write_to_a_viewer_session(world):
    # With the session's CSRF token, as the viewer's own browser sends it: the refusal must
    # come from the permission, not from a missing token.
    client = _enforcing_client()
    client.force_login(role_user("viewer"))
    client.get("/admin/")
    client.credentials(HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    before = db_snapshot()
    wrong = _api_refusals(client, world, expected=403)
    assert not wrong, wrong
    assert db_changes(before, db_snapshot()) == []


# --- the admin ----------------------------------------------------------------------------


def _admin_posts(world) -> list[tuple[str, str, dict, str | None, object]]:
    """(url name, url, data, action, model admin) for every admin write; fails if the resolver lists an admin
    route this does not know how to write to."""
    posts = []
    covered = set(ADMIN_NOT_WRITES)
    user_pk = world["viewer"].pk
    for model, model_admin in admin_models():
        opts = model._meta
        prefix = f"{opts.app_label}_{opts.model_name}"
        obj = model._base_manager.first()
        assert obj is not None, f"the world has no {opts.label} row: add one to full_world()"
        pk = obj.pk
        for kind, args, data in [
            ("add", [], {"name": "x", "title": "x"}),
            ("change", [pk], {"name": "x", "title": "x"}),
            ("delete", [pk], {"post": "yes"}),
        ]:
            posts.append(
                (f"{prefix}_{kind}", reverse(f"admin:{prefix}_{kind}", args=args), data, None, model_admin)
            )
        changelist = reverse(f"admin:{prefix}_changelist")
        for action in [*(model_admin.actions or []), "delete_selected"]:
            name = action if isinstance(action, str) else action.__name__
            data = {"action": name, "_selected_action": [str(pk)], "index": "0"}
            posts.append((f"{prefix}_changelist", changelist, data, name, model_admin))
        covered |= {f"{prefix}_{kind}" for kind in ("add", "change", "delete", "changelist", "history")}
    password = reverse("admin:auth_user_password_change", args=[user_pk])
    data = {"password1": "x9!Qz-long-enough", "password2": "x9!Qz-long-enough"}
    posts.append(("auth_user_password_change", password, data, None, None))
    covered.add("auth_user_password_change")
    opening = reverse("admin:statuspage_incidenttemplate_open", args=[world["incident_template"].pk])
    posts.append(("statuspage_incidenttemplate_open", opening, {}, None, None))
    covered.add("statuspage_incidenttemplate_open")
    for name in admin_url_names():
        if name.startswith(("console-", "two-factor")):
            covered.add(name)  # the quick actions and each user's own devices have their own tests below
    unknown = admin_url_names() - covered
    assert not unknown, f"admin routes with no write check: {sorted(unknown)}"
    return posts


def test_it_sends_anonymous_admin_writes_to_the_login_page(world):
    world["viewer"] = role_user("viewer")
    client = _browser_client()
    before = db_snapshot()
    wrong = []
    for name, url, data, action, _ in _admin_posts(world):
        response = client.post(url, data)
        if response.status_code != 302 or not response["Location"].startswith("/admin/login/"):
            wrong.append(f"{name} {action or ''}: {response.status_code}")
    assert not wrong, wrong
    assert db_changes(before, db_snapshot()) == []


def test_it_refuses_every_admin_write_to_a_viewer(world):
    viewer = world["viewer"] = role_user("viewer")
    client = _browser_client(viewer)
    request = RequestFactory().post("/admin/")
    request.user = viewer
    before = db_snapshot()
    wrong = []
    for name, url, data, action, model_admin in _admin_posts(world):
        response = client.post(url, data)
        own_rows = model_admin is not None and model_admin.model._meta.label_lower in OWN_ROWS_MODELS
        if own_rows:
            # Their own rows: the add form (BODY is not a valid row), actions on their own
            # selection, and someone else's row, which is not in their list (the admin redirects
            # as for a missing row); a form nobody may post at all (an API key is never edited or
            # deleted, only revoked) is a 403. The database check below shows nothing changed.
            if response.status_code not in (200, 302, 403):
                wrong.append(f"{name} {action or ''}: {response.status_code}")
            continue
        if action is None:
            if response.status_code != 403:
                wrong.append(f"{name}: {response.status_code}")
            continue
        offered = action in model_admin.get_actions(request)
        if action not in READ_ONLY_ACTIONS and (offered or response.status_code not in (200, 302, 403)):
            wrong.append(f"{name} action {action}: offered={offered}, {response.status_code}")
    assert not wrong, wrong
    # Opening a staff notification marks it read for that user: their own inbox, by design.
    assert db_changes(before, db_snapshot()) in ([], ["notifications.staffnotificationread"])


def test_it_offers_a_viewer_no_admin_action_that_writes(world):
    viewer = role_user("viewer")
    request = RequestFactory().get("/admin/")
    request.user = viewer
    offered = {
        f"{model._meta.label}.{name}"
        for model, model_admin in admin_models()
        for name in model_admin.get_actions(request)
        if name not in READ_ONLY_ACTIONS and model._meta.label_lower not in OWN_ROWS_MODELS
    }
    assert offered == set()


# --- dashboard quick actions ---------------------------------------------------------------


def _quick_actions(world) -> list[str]:
    pks = {"alerts": world["alert"].pk, "incidents": world["incident"].pk}
    urls = []
    for name in sorted(n for n in admin_url_names() if n.startswith("console-")):
        kind = name.split("-")[1]
        pk = {"alert": pks["alerts"], "incident": pks["incidents"]}.get(kind)
        if kind == "maintenance":
            pk = world["active_maintenance" if name.endswith("complete") else "maintenance"].pk
        urls.append(reverse(name, args=[pk]))
    assert len(urls) >= 5
    return urls


def test_it_sends_anonymous_quick_actions_to_the_login_page(world):
    client = _browser_client()
    before = db_snapshot()
    for url in _quick_actions(world):
        response = client.post(url, {"status": "resolved", "message": "no", "note": "no"})
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), url
    assert db_changes(before, db_snapshot()) == []


def test_it_refuses_quick_actions_to_a_viewer(world):
    client = _browser_client(role_user("viewer"))
    before = db_snapshot()
    codes = {
        url: client.post(url, {"status": "resolved", "message": "no"}).status_code
        for url in _quick_actions(world)
    }
    assert set(codes.values()) == {403}, codes
    assert db_changes(before, db_snapshot()) == []


# --- each user's own two-factor devices ----------------------------------------------------


def _two_factor_urls(world) -> list[str]:
    """Every two-factor route, aimed at the world's devices (the Administrator's)."""
    device = world["totp_device"].pk
    args = {"two-factor-totp-confirm": [device], "two-factor-device-remove": ["totp", device]}
    urls = [
        reverse(name, args=args.get(name, []))
        for name in sorted(admin_url_names())
        if name.startswith("two-factor")
    ]
    assert len(urls) >= 9
    return urls


TWO_FACTOR_BODY = {"name": "x", "code": "000000", "confirm": "pw-viewer-12345"}


def test_it_sends_anonymous_two_factor_writes_to_the_login_page(world):
    client = _browser_client()
    before = db_snapshot()
    wrong = []
    for url in _two_factor_urls(world):
        response = client.post(url, TWO_FACTOR_BODY)
        to_login = response.status_code == 302 and response["Location"].startswith("/admin/login/")
        if not (to_login or response.status_code == 401):
            wrong.append(f"{url}: {response.status_code}")
    assert not wrong, wrong
    assert db_changes(before, db_snapshot()) == []


def test_it_keeps_a_viewer_to_their_own_two_factor_devices(world):
    viewer = role_user("viewer")
    client = _browser_client(viewer)

    def others() -> dict:
        snapshot = db_snapshot()
        return {
            label: [row for row in snapshot[label] if row.get("user_id") != viewer.pk]
            for label in (
                "otp_totp.totpdevice",
                "otp_static.staticdevice",
                "otp_static.statictoken",
                "config.webauthncredential",
            )
        }

    before = others()
    for url in _two_factor_urls(world):
        assert client.post(url, TWO_FACTOR_BODY).status_code in (200, 302, 400, 401, 404, 405), url
    assert others() == before
