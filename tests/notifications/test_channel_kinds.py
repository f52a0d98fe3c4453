"""What every provider kind shares: the admin's test action, the admin form, what viewers and
the audit log see, and the API schema."""

from urllib.parse import unquote_plus

import pytest
from django.test import Client
from django.urls import reverse

from config.models import AuditEntry
from notifications.models import INCIDENT_TOOL_KINDS, Channel, Delivery
from notifications.providers import SENDERS
from notifications.senders import render_plain
from notifications.services import deliveries_send_due, message_enqueue
from tests.config.factories import role_user
from tests.notifications.factories import ChannelFactory
from tests.notifications.provider_servers import Answer, ProviderServer
from tests.notifications.twilio_fakes import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, ON_CALL

pytestmark = pytest.mark.django_db

BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
TWILIO = {"recipients": ON_CALL, "account_sid": ACCOUNT_SID, "token": AUTH_TOKEN, "from_number": FROM_NUMBER}
# SMS carry the title (one segment), and a call reads it: the test message's subject, not its text.
TITLE_ONLY = {Channel.Kind.SMS, Channel.Kind.VOICE, Channel.Kind.SMS_GATEWAY}


@pytest.fixture
def provider(settings):
    server = ProviderServer(Answer.json(201, {"ok": True}))
    settings.NTFY_URL = settings.TELEGRAM_API_URL = settings.TWILIO_API_URL = server.url
    settings.PAGERDUTY_EVENTS_URL = settings.OPSGENIE_API_URL = settings.SLACK_API_URL = server.url
    yield server
    server.stop()


def channel_of(kind: str, server: ProviderServer) -> Channel:
    fields = {
        Channel.Kind.NTFY: {"destination": "ops"},
        Channel.Kind.TELEGRAM: {"destination": "-1001234567890", "token": BOT_TOKEN},
        Channel.Kind.GOTIFY: {"url": server.url, "token": "AWJ3hGx.k1FsT2u"},
        Channel.Kind.SMS: TWILIO,
        Channel.Kind.VOICE: TWILIO,
        Channel.Kind.SMS_GATEWAY: {"url": f"{server.url}/sms", "recipients": ON_CALL},
        Channel.Kind.PAGERDUTY: {"token": "R0UTINGKEY0123456789abcdefABCDEF"},
        Channel.Kind.OPSGENIE: {"token": "1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718"},
        Channel.Kind.SLACK_BOT: {
            "token": "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOp",
            "destination": "C0123456789",
        },
    }.get(kind, {"url": f"{server.url}/hook/path-secret"})
    fields = {"recipients": "", **fields}
    channel = ChannelFactory(kind=kind, enabled=False, min_severity="critical", **fields)
    channel.full_clean()
    return channel


@pytest.mark.parametrize("kind", list(SENDERS))
def test_it_sends_a_test_notification_from_the_admin_to_every_kind(admin_client, provider, kind):
    channel = channel_of(kind, provider)
    url = reverse("admin:notifications_channel_changelist")
    admin_client.post(url, {"action": "send_test_notification", "_selected_action": [channel.pk]})
    deliveries_send_due()
    # One request (an incident tool's test is a trigger and then its resolve: two).
    request = provider.requests[0]
    assert len(provider.requests) == (2 if kind in INCIDENT_TOOL_KINDS else 1)
    # The same template as e-mail and Slack: the test message's text reaches every provider.
    shown = "Test notification from Vigil" if kind in TITLE_ONLY else "works"
    assert shown in unquote_plus(request["body"].decode()) or shown in unquote_plus(request["path"])
    assert Delivery.objects.get().status == Delivery.Status.SENT


def test_it_offers_every_kind_in_the_admin_form(admin_client):
    response = admin_client.get(reverse("admin:notifications_channel_add"))
    for kind in SENDERS:
        assert f'value="{kind}"'.encode() in response.content


def test_it_answers_a_bad_channel_with_form_errors_not_a_500(admin_client):
    form = {
        "name": "pager",
        "kind": "telegram",
        "destination": "my chat",
        "token": "x",
        "min_severity": "low",
    }
    response = admin_client.post(reverse("admin:notifications_channel_add"), form)
    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) == {"token"}
    assert not Channel.objects.exists()


def test_it_keeps_the_token_out_of_the_audit_log_and_from_viewers():
    client = Client()
    client.force_login(role_user("superuser"))
    form = {
        "name": "pager",
        "kind": "telegram",
        "destination": "-1001234567890",
        "token": BOT_TOKEN,
        "min_severity": "low",
        "enabled": "on",
    }
    response = client.post(reverse("admin:notifications_channel_add"), form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    channel = Channel.objects.get()
    entries = " ".join(str([e.before, e.after, e.changes]) for e in AuditEntry.objects.all())
    assert "pager" in entries and BOT_TOKEN.split(":")[1] not in entries
    client.force_login(role_user("viewer"))
    body = client.get(reverse("admin:notifications_channel_change", args=[channel.pk])).content.decode()
    assert "pager" in body and BOT_TOKEN.split(":")[1] not in body


def enums(node) -> list[list]:
    if isinstance(node, dict):
        found = [node["enum"]] if isinstance(node.get("enum"), list) else []
        return found + [e for value in node.values() for e in enums(value)]
    if isinstance(node, list):
        return [e for value in node for e in enums(value)]
    return []


def test_it_lists_every_kind_in_the_api_schema(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    channel_kinds = [enum for enum in enums(schema) if "dashboard" in enum]
    assert channel_kinds and all(set(SENDERS) <= set(enum) for enum in channel_kinds)


@pytest.mark.parametrize(
    ("template", "context", "shown"),
    [
        (
            "alert",
            {"alerts": [{"severity": "critical", "title": "Disk full", "status": "firing"}]},
            "Disk full",
        ),
        ("alert", {"state": "storm", "alerts": [{"title": f"rule {n}"} for n in range(3)]}, "rule 2"),
        ("statuspage_incident", {"headline": "New incident", "title": "API down"}, "New incident: API down"),
        ("statuspage_maintenance", {"title": "Database upgrade", "status": "scheduled"}, "Database upgrade"),
        ("test", {"body": "This is a test."}, "This is a test."),
    ],
)
def test_it_sends_each_producers_text_as_the_email_text(provider, template, context, shown):
    ChannelFactory(kind=Channel.Kind.NTFY, recipients="", destination="ops")
    message = message_enqueue(
        kind="check", subject="Check", template=template, context=context, severity="high", dedup_key=template
    )
    deliveries_send_due()
    sent = provider.requests[0]["json"]["message"]
    assert sent == render_plain(message, Delivery.objects.get()).strip() and shown in sent


def test_it_retries_a_408_from_any_http_channel(provider):
    # 408 is the receiver asking for the request again; it used to fail the delivery at once.
    provider.then(Answer(408, b"Request Timeout"))
    ChannelFactory(kind=Channel.Kind.WEBHOOK, recipients="", url=f"{provider.url}/hook", secret="s3cret")
    message_enqueue(kind="alert.firing", subject="Latency", severity="high", dedup_key="a:408")
    deliveries_send_due()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.PENDING and delivery.last_error == "HTTP 408: Request Timeout"
