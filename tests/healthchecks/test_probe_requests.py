"""An HTTP probe sends what staff set: extra headers, a body, basic auth; TLS verification can
be turned off for a self-signed certificate (HTTP and TCP). The credentials stay secret: never
read back by the API, hidden from viewers in the admin, digested in the audit log, never carried
to another host by a redirect."""

import pytest

from config.models import AuditEntry
from healthchecks.models import Probe, ProbeResult
from healthchecks.probes.http import ProbeSpec, execute, make_session
from tests.config.factories import role_user
from tests.healthchecks.factories import ProbeFactory
from tests.healthchecks.test_probe_kinds import probe_of, tick, tls_target  # noqa: F401  (a fixture)
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db
HEADERS = "X-Api-Key: k-81bd2c4e9f\nAccept: application/json"


def run(url: str, **options):
    return execute(ProbeSpec(probe_id=1, url=url, **{"timeout": 2.0, **options}), make_session(2))


def test_it_sends_the_probes_headers_and_body(target):
    outcome = run(target.url("/ok"), method="POST", request_headers=HEADERS, request_body='{"deep": true}')
    assert outcome.ok, outcome.error
    [request] = target.requests
    assert (request["method"], request["body"]) == ("POST", b'{"deep": true}')
    assert request["headers"]["X-Api-Key"] == "k-81bd2c4e9f"
    assert request["headers"]["Accept"] == "application/json"


def test_it_signs_in_with_basic_auth(target):
    assert run(target.url("/private")).status_code == 401
    outcome = run(target.url("/private"), basic_auth_user="monitor", basic_auth_password="s3cret-pa55")
    assert outcome.ok, outcome.error


def test_a_redirect_to_another_host_carries_no_credentials(target):
    outcome = run(
        target.url("/away"), request_headers=HEADERS, basic_auth_user="monitor", basic_auth_password="pw"
    )
    assert outcome.ok, outcome.error
    first, redirected = target.requests
    assert first["headers"]["X-Api-Key"] == "k-81bd2c4e9f"
    assert "X-Api-Key" not in redirected["headers"] and "Authorization" not in redirected["headers"]


def test_it_refuses_a_self_signed_certificate_unless_told_not_to_verify(tls_target):  # noqa: F811
    refused = run(tls_target.url("/ok"))
    assert not refused.ok and "certificate" in refused.error.lower()
    assert run(tls_target.url("/ok"), verify_tls=False).ok


def test_a_tcp_probe_may_complete_a_handshake_without_verifying(tls_target):  # noqa: F811
    probe = probe_of(
        Probe.Kind.TCP, host="127.0.0.1", port=tls_target.port, tls_handshake=True, verify_tls=False
    )
    tick()
    result = ProbeResult.objects.get(probe=probe)
    assert result.ok, result.error


def test_the_api_takes_the_settings_and_never_reads_the_credentials_back(api, target):
    component = ComponentFactory(health_check_url=target.url("/private"))
    response = api.post(
        "/api/operations/probes",
        {
            "component": component.pk,
            "request_headers": HEADERS,
            "basic_auth_user": "monitor",
            "basic_auth_password": "s3cret-pa55",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = api.get(f"/api/operations/probes/{response.json()['id']}").json()
    assert "k-81bd2c4e9f" not in str(body) and "s3cret-pa55" not in str(body)
    assert body["secrets_set"] == ["request_headers", "basic_auth_password"]
    assert body["basic_auth_user"] == "monitor"
    tick()
    assert ProbeResult.objects.get().ok  # the stored credentials open /private


def test_a_change_that_leaves_the_credentials_out_keeps_them(api):
    probe = ProbeFactory(basic_auth_user="monitor", basic_auth_password="s3cret-pa55")
    response = api.patch(f"/api/operations/probes/{probe.pk}", {"interval_seconds": 60}, format="json")
    assert response.status_code == 200, response.json()
    assert Probe.objects.get(pk=probe.pk).basic_auth_password == "s3cret-pa55"


def test_it_answers_a_malformed_header_line_with_a_400_naming_the_field(api):
    probe = ProbeFactory()
    response = api.patch(
        f"/api/operations/probes/{probe.pk}", {"request_headers": "no colon here"}, format="json"
    )
    assert response.status_code == 400
    assert "request_headers" in response.json()["errors"]


def test_the_audit_log_keeps_the_credentials_out(api):
    probe = ProbeFactory()
    api.patch(
        f"/api/operations/probes/{probe.pk}",
        {"request_headers": HEADERS, "basic_auth_password": "s3cret-pa55"},
        format="json",
    )
    entry = AuditEntry.objects.get(content_type__model="probe", action=AuditEntry.Action.UPDATE)
    assert "request_headers" in entry.changes
    assert "k-81bd2c4e9f" not in str(entry.changes) and "s3cret-pa55" not in str(entry.after)


def test_a_viewer_sees_no_credentials_in_the_admin(client):
    probe = ProbeFactory(request_headers=HEADERS, basic_auth_password="s3cret-pa55")
    client.force_login(role_user("viewer"))
    page = client.get(f"/admin/healthchecks/probe/{probe.pk}/change/")
    assert page.status_code == 200
    assert b"k-81bd2c4e9f" not in page.content and b"s3cret-pa55" not in page.content
