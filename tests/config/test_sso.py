"""Single sign-on against the loopback provider (tests/config/oidc_provider.py), each path through
the Django test client: the round trip, the users and roles it makes, and every refusal."""

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth.models import User
from django.test import Client

from config.models import AuditEntry, SsoIdentity
from tests.config.factories import role_user
from tests.config.oidc_provider import CLIENT_ID
from tests.conftest import run_manage

pytestmark = pytest.mark.django_db


def _start(client: Client, path: str = "/sso/login") -> str:
    response = client.get(path)
    assert response.status_code == 302, response.content
    return response["Location"]


def _at_provider(authorize_url: str) -> dict:
    """The browser at the provider: its redirect back to Vigil, as a query."""
    answer = requests.get(authorize_url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}


def sign_in(client: Client, path: str = "/sso/login"):
    return client.get("/sso/callback", _at_provider(_start(client, path)))


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_it_signs_in_a_new_person_with_the_role_of_their_group(client, sso):
    response = sign_in(client)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    user = User.objects.get(sso_identities__subject="u-1001")
    assert (user.username, user.is_staff, user.has_usable_password()) == ("alice", True, False)
    assert list(user.groups.values_list("name", flat=True)) == ["Operators"]
    assert client.session["vigil_auth_method"] == "oidc"
    assert client.get("/admin/").status_code == 200


def test_it_sends_state_nonce_and_an_s256_pkce_challenge(client, sso):
    query = parse_qs(urlsplit(_start(client)).query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["scope"] == ["openid email profile groups"]
    assert query["code_challenge_method"] == ["S256"]
    assert all(len(query[name][0]) >= 43 for name in ("state", "nonce", "code_challenge"))


def test_it_audits_the_first_sign_in(client, sso):
    sign_in(client)
    entry = AuditEntry.objects.get(action="create", object_repr="alice")
    assert entry.changes["roles"] == [None, ["Operators"]]
    assert entry.path == "/sso/callback"


def test_it_sends_a_client_secret_with_any_characters_intact(client, sso, settings):
    settings.OIDC_CLIENT_SECRET = sso.client_secret = "se:cr%et+/ with space"
    assert sign_in(client).status_code == 302


def test_it_shows_502_when_the_provider_refuses_vigils_client_secret(client, sso, settings):
    settings.OIDC_CLIENT_SECRET = "not-the-registered-secret"
    response = sign_in(client)
    assert response.status_code == 502
    assert b"refused Vigil&#x27;s client credentials" in response.content
    assert not _logged_in(client)


def test_it_finds_the_user_again_by_subject_when_their_name_changes(client, sso):
    sign_in(client)
    sso.person = {**sso.person, "preferred_username": "alice.smith", "email": "a.smith@example.com"}
    sign_in(Client())
    assert User.objects.filter(sso_identities__subject="u-1001").get().username == "alice"
    assert SsoIdentity.objects.count() == 1


def test_it_gives_a_taken_username_a_number(client, sso):
    User.objects.create_user("alice", password="local-password-123")
    sign_in(client)
    assert User.objects.get(sso_identities__subject="u-1001").username == "alice-2"


def test_it_sets_the_roles_from_the_groups_on_every_sign_in_and_audits_the_change(client, sso):
    sign_in(client)
    sso.person = {**sso.person, "groups": ["vigil-admins", "unrelated"]}
    sign_in(Client())
    user = User.objects.get(username="alice")
    assert list(user.groups.values_list("name", flat=True)) == ["Administrators"]
    entry = AuditEntry.objects.get(action="update", object_repr="alice")
    assert entry.changes == {"roles": [["Operators"], ["Administrators"]]}


def test_it_refuses_a_person_whose_groups_map_to_no_role_and_takes_their_roles(client, sso):
    sign_in(Client())
    sso.person = {**sso.person, "groups": ["marketing"]}
    response = sign_in(client)
    assert response.status_code == 403
    assert b"in no group that has a role" in response.content
    assert not _logged_in(client)
    assert not User.objects.get(username="alice").groups.exists()


def test_it_makes_no_user_for_a_first_sign_in_without_a_role(client, sso):
    sso.person = {**sso.person, "groups": []}
    assert sign_in(client).status_code == 403
    assert not User.objects.filter(username="alice").exists()


def test_it_refuses_a_deactivated_user(client, sso):
    sign_in(Client())
    User.objects.filter(username="alice").update(is_active=False)
    response = sign_in(client)
    assert response.status_code == 403
    assert not _logged_in(client)


@pytest.mark.parametrize(
    ("switch", "message"),
    [
        ("expired", b"has expired"),
        ("sign_with_wrong_key", b"wrong signature"),
        ("audience", b"issued to another client"),
    ],
)
def test_it_refuses_a_bad_id_token_with_no_session(client, sso, switch, message):
    setattr(sso, switch, "someone-else" if switch == "audience" else True)
    response = sign_in(client)
    assert response.status_code == 403
    assert message in response.content
    assert not _logged_in(client)
    assert not User.objects.filter(username="alice").exists()


def test_it_refuses_a_replayed_state(client, sso):
    callback = _at_provider(_start(client))
    assert client.get("/sso/callback", callback).status_code == 302
    client.logout()
    response = client.get("/sso/callback", callback)
    assert response.status_code == 400
    assert not _logged_in(client)


def test_it_refuses_a_state_it_never_sent(client, sso):
    _start(client)
    response = client.get("/sso/callback", {"state": "made-up", "code": "x"})
    assert response.status_code == 400
    assert b"Start again" in response.content


def test_it_refuses_a_callback_from_another_browser(client, sso):
    callback = _at_provider(_start(Client()))
    assert client.get("/sso/callback", callback).status_code == 400


def test_it_reads_the_keys_again_once_when_the_provider_rotates_them(client, sso):
    sign_in(Client())
    sso.rotate()
    assert sign_in(client).status_code == 302
    assert sso.requests.count("/jwks") == 2


def test_it_refuses_a_key_the_provider_does_not_publish_after_one_more_look(client, sso):
    old = sso.key
    sso.rotate()
    sso.published = [old]
    response = sign_in(client)
    assert response.status_code == 403
    assert b"does not publish" in response.content
    assert sso.requests.count("/jwks") == 2


def test_it_shows_502_for_a_provider_that_stalls_the_token_request(client, sso):
    sso.stall["/token"] = 10
    callback = _at_provider(_start(client))
    started = time.monotonic()
    response = client.get("/sso/callback", callback)
    assert response.status_code == 502
    assert time.monotonic() - started < 3
    assert b"did not answer in time" in response.content
    assert not _logged_in(client)


def test_it_shows_502_when_discovery_stalls(client, sso):
    sso.stall["/.well-known/openid-configuration"] = 10
    response = client.get("/sso/login")
    assert response.status_code == 502


@pytest.mark.parametrize(
    "path", ["/.well-known/openid-configuration", "/jwks", "/token"], ids=["discovery", "keys", "token"]
)
def test_it_shows_502_for_junk_from_the_provider(client, sso, path):
    if path != "/.well-known/openid-configuration":
        client.get("/sso/login")  # discovery read and cached before the junk starts
    sso.junk[path] = (200, b"<html>maintenance</html>")
    response = sign_in(client) if path != "/.well-known/openid-configuration" else client.get("/sso/login")
    assert response.status_code == 502
    assert b"unavailable" in response.content
    assert not _logged_in(client)


def test_it_shows_502_when_the_provider_cannot_be_reached(client, sso, settings, closed_port):
    settings.OIDC_ISSUER = f"http://127.0.0.1:{closed_port}"
    response = client.get("/sso/login")
    assert response.status_code == 502
    assert b"could not be reached" in response.content


def test_it_refuses_a_discovery_document_of_another_issuer(client, sso, settings):
    settings.OIDC_ISSUER = sso.issuer + "/realms/other"
    assert client.get("/sso/login").status_code == 502


def test_it_shows_400_when_the_provider_refuses_the_code(client, sso):
    callback = _at_provider(_start(client))
    sso.codes[callback["code"]]["used"] = True
    response = client.get("/sso/callback", callback)
    assert response.status_code == 400
    assert b"invalid_grant" in response.content


def test_it_shows_403_when_the_provider_refuses_the_sign_in(client, sso):
    query = parse_qs(urlsplit(_start(client)).query)
    response = client.get("/sso/callback", {"state": query["state"][0], "error": "access_denied"})
    assert response.status_code == 403
    assert b"access_denied" in response.content


def test_it_goes_back_to_the_page_asked_for_but_never_to_another_site(client, sso):
    assert sign_in(client, "/sso/login?next=/admin/alerts/alert/")["Location"] == "/admin/alerts/alert/"
    assert sign_in(Client(), "/sso/login?next=https://evil.example/")["Location"] == "/admin/"


def test_it_offers_single_sign_on_on_the_login_page(client, sso, settings):
    settings.OIDC_PROVIDER_NAME = "Acme SSO"
    page = client.get("/admin/login/").content.decode()
    assert "Sign in with Acme SSO" in page
    assert 'id="login-form"' in page


def test_it_offers_no_single_sign_on_when_it_is_off(client):
    assert b"Sign in with" not in client.get("/admin/login/").content
    assert client.get("/sso/login").status_code == 404


def test_it_hides_and_refuses_the_password_form_when_local_login_is_off(sso, settings):
    settings.LOCAL_LOGIN = False
    role_user("administrator")
    client = Client()  # no CSRF check: the refusal below is the login's own
    page = client.get("/admin/login/")
    assert b'id="login-form"' not in page.content
    assert b"Sign in with single sign-on" in page.content
    # The right password: refused all the same.
    form = {"username": "administrator", "password": "pw-administrator-12345"}
    response = client.post("/admin/login/", form)
    assert response.status_code == 403
    assert b"Password sign-in is turned off" in response.content
    assert not _logged_in(client)


def test_it_accepts_the_password_form_while_local_login_is_on(sso):
    role_user("administrator")
    response = Client().post(
        "/admin/login/", {"username": "administrator", "password": "pw-administrator-12345"}
    )
    assert response.status_code == 302


def test_it_ends_the_session_at_the_provider_on_logout(client, sso):
    sign_in(client)
    client.get("/admin/")
    response = client.post("/admin/logout/")
    assert response.status_code == 200
    target = urlsplit(response.context["end_session_url"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{sso.issuer}/logout"
    assert parse_qs(target.query)["id_token_hint"]
    assert not _logged_in(client)


def test_it_logs_a_password_session_out_locally_only(client, sso):
    client.force_login(role_user("viewer"))
    response = client.post("/admin/logout/")
    assert response.status_code == 200
    assert "end_session_url" not in response.context
    assert not _logged_in(client)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OIDC_ISSUER": "https://idp.example.com"}, "OIDC_CLIENT_ID must be set"),
        (
            {"OIDC_ISSUER": "https://idp.example.com", "OIDC_CLIENT_ID": "v", "OIDC_CLIENT_SECRET": "s"},
            "OIDC_ROLE_MAP must map at least one group",
        ),
        ({"OIDC_ROLE_MAP": "vigil-admins=Admins"}, "OIDC_ROLE_MAP: 'Admins' is not a role"),
        ({"OIDC_ISSUER": "http://idp.example.com"}, "OIDC_ISSUER must be an https:// URL"),
        ({"OIDC_CLIENT_ID": "v"}, "OIDC_ISSUER must be set"),
        ({"LOCAL_LOGIN": "0"}, "LOCAL_LOGIN=0 needs OIDC_ISSUER"),
    ],
)
def test_it_refuses_half_a_configuration_at_start_up(env, message):
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
