"""Channels through the API: every kind with the model's own checks, credentials write-only,
the same test message as the admin's action, and the roles of the admin."""

import pytest
from rest_framework.test import APIClient

from config.models import AuditEntry
from notifications.models import Channel, Delivery
from notifications.services import deliveries_send_due
from tests.config.factories import role_user
from tests.notifications.factories import ChannelFactory
from tests.notifications.test_kind_ntfy import ntfy  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db
URL = "/api/operations/channels"
TOKEN = "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2"
NTFY = {"name": "Phones", "kind": "ntfy", "destination": "ops", "token": TOKEN}


def _as(role: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(role_user(role))
    return client


def test_it_creates_a_channel_of_a_paging_kind(api):
    response = api.post(URL, NTFY, format="json")
    assert response.status_code == 201, response.json()
    channel = Channel.objects.get(pk=response.json()["id"])
    assert (channel.kind, channel.destination, channel.token) == ("ntfy", "ops", TOKEN)


def test_it_never_reads_a_credential_back(api):
    body = api.post(URL, NTFY, format="json").json()
    listed = api.get(URL).json()
    assert TOKEN not in str(body) and TOKEN not in str(listed)
    assert body["secrets_set"] == ["secret", "token"]


def test_it_answers_the_kinds_own_checks_with_a_400_naming_the_field(api):
    response = api.post(URL, {"name": "Mail", "kind": "email", "recipients": ""}, format="json")
    assert response.status_code == 400
    assert "recipients" in response.json()["errors"]


def test_it_refuses_an_unknown_kind(api):
    response = api.post(URL, {"name": "Pager", "kind": "beeper"}, format="json")
    assert response.status_code == 400
    assert "kind" in response.json()["errors"]


def test_it_refuses_a_url_the_outbound_rule_does_not_allow(api):
    response = api.post(
        URL, {"name": "Hook", "kind": "webhook", "url": "http://169.254.169.254/latest"}, format="json"
    )
    assert response.status_code == 400
    assert "url" in response.json()["errors"]


def test_a_change_that_leaves_the_token_out_keeps_it(api):
    pk = api.post(URL, NTFY, format="json").json()["id"]
    response = api.patch(f"{URL}/{pk}", {"min_severity": "high"}, format="json")
    assert response.status_code == 200, response.json()
    channel = Channel.objects.get(pk=pk)
    assert (channel.min_severity, channel.token) == ("high", TOKEN)


def test_it_sends_a_test_notification_through_the_provider(api, ntfy):  # noqa: F811
    pk = api.post(URL, NTFY, format="json").json()["id"]
    response = api.post(f"{URL}/{pk}/test")
    assert response.status_code == 202
    assert response.json()["deliveries"] == 1
    deliveries_send_due()
    [request] = ntfy.requests
    assert request["json"]["topic"] == "ops"
    assert Delivery.objects.get().status == Delivery.Status.SENT


def test_deleting_a_channel_keeps_its_past_deliveries(api):
    channel = ChannelFactory()
    api.post(f"{URL}/{channel.pk}/test")
    assert api.delete(f"{URL}/{channel.pk}").status_code == 204
    assert Delivery.objects.get().channel is None


def test_a_viewer_reads_the_host_of_a_webhook_url_only_and_may_not_write():
    ChannelFactory(
        kind=Channel.Kind.SLACK, recipients="", url="https://hooks.slack.com/services/T0/B0/XyZsecret"
    )
    viewer = _as("viewer")
    [row] = [row for row in viewer.get(URL).json()["results"] if row["kind"] == "slack"]
    assert row["url"] == "https://hooks.slack.com/…"
    assert viewer.post(URL, NTFY, format="json").status_code == 403


def test_an_operator_may_not_change_a_channel():
    channel = ChannelFactory()
    assert _as("operator").patch(f"{URL}/{channel.pk}", {"enabled": False}, format="json").status_code == 403
    assert Channel.objects.get(pk=channel.pk).enabled


def test_the_audit_log_keeps_the_token_out(api):
    api.post(URL, NTFY, format="json")
    entry = AuditEntry.objects.get(content_type__model="channel", action=AuditEntry.Action.CREATE)
    assert entry.after["destination"] == "ops"
    assert TOKEN not in str(entry.after) and TOKEN not in str(entry.changes)


def test_the_schema_documents_the_channel_operations(client):
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]
    assert {"get", "post"} <= set(paths["/api/operations/channels"])
    assert "post" in paths["/api/operations/channels/{id}/test"]
