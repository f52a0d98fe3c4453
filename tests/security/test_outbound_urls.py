"""Webhook, Slack and probe URLs: http(s) only, no credentials in webhook URLs, no requests to
private, loopback or link-local addresses from webhooks (unless WEBHOOK_ALLOWED_NETWORKS lists
them) nor to the cloud metadata service from probes; one validator (core/outbound.py)
behind the admin forms, the API serializers and the channels made from the environment, and a
second look just before connecting."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from core import outbound
from healthchecks.probes.http import ProbeSpec, execute, make_session
from notifications.models import Channel, Delivery
from notifications.services import (
    NotificationError,
    channels_sync_from_settings,
    deliveries_send_due,
    message_enqueue,
)
from statuspage.models import Component
from tests.config.factories import role_user
from tests.notifications.factories import WebhookChannelFactory
from tests.notifications.servers import HttpReceiver
from tests.statuspage.factories import ComponentFactory

pytestmark = pytest.mark.django_db
METADATA = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"


@pytest.fixture(autouse=True)
def _production_default(settings):
    """The production default: nothing allowed beyond the rule (the suite allows loopback)."""
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    settings.PROBE_ALLOWED_NETWORKS = []


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/x",
        "file:///etc/passwd",
        "gopher://hooks.example.com:70/_x",
        "javascript:alert(1)",
        "http://",
        "https://hooks.example.com/a b",
        "https://hooks.example.com/x\r\nX-Evil: 1",
        "https://user:pw@hooks.example.com/x",
        "https://token@hooks.example.com/x",
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://api.localhost/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://2130706433/hook",  # 127.0.0.1 written as one number
        "http://0x7f.1/hook",
        "http://10.1.2.3/hook",
        "http://172.16.0.1/hook",
        "http://192.168.1.1/hook",
        "http://100.64.0.1/hook",
        "http://[fd00::1]/hook",
        METADATA,
        "http://[fe80::1]/hook",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
        "http://hooks.example.com:99999/x",
    ],
)
def test_it_refuses_a_webhook_url(url):
    assert outbound.check_url(url, outbound.WEBHOOK) is not None


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.slack.com/services/T0/B0/XYZ",
        "https://receiver.example:8443/hook?x=1",
        "http://93.184.216.34/h",
    ],
)
def test_it_accepts_a_public_webhook_url(url):
    assert outbound.check_url(url, outbound.WEBHOOK) is None


def test_it_allows_the_networks_it_is_told_to(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert outbound.check_url("http://10.1.2.3/hook", outbound.WEBHOOK) is None
    assert outbound.check_url("http://127.0.0.1/hook", outbound.WEBHOOK) is not None


@pytest.mark.parametrize(
    "url",
    [
        METADATA,
        "http://2852039166/latest",
        "http://[fe80::1]/",
        "http://[fd00:ec2::254]/",
        "http://0.0.0.0/",
        "ftp://x/",
    ],
)
def test_it_refuses_a_probe_url(url):
    assert outbound.check_url(url, outbound.PROBE) is not None


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/health/live", "http://10.0.0.5/health", "https://probe:pw@internal/health"]
)
def test_it_lets_probes_reach_internal_services(url):
    assert outbound.check_url(url, outbound.PROBE) is None


# --- every way in goes through the one validator ---------------------------------------------


def _admin() -> Client:
    client = Client()
    client.force_login(role_user("superuser"))
    return client


def _api() -> Client:
    token = Token.objects.create(user=role_user("administrator"))
    return Client(HTTP_AUTHORIZATION=f"Token {token.key}")


def test_it_refuses_a_private_channel_url_in_the_admin():
    data = {"name": "internal", "kind": "webhook", "url": METADATA, "secret": "s", "min_severity": "low"}
    response = _admin().post("/admin/notifications/channel/add/", {**data, "enabled": "on"})
    assert response.status_code == 200 and b"not a public address" in response.content
    assert not Channel.objects.exists()


def test_it_refuses_a_private_channel_url_from_the_environment(settings):
    settings.SLACK_NOTIFICATIONS_ENABLED = True
    settings.SLACK_WEBHOOK_URL = "http://10.0.0.8/services/x"
    with pytest.raises(NotificationError, match="not a public address"):
        channels_sync_from_settings()
    assert not Channel.objects.filter(kind="slack").exists()


def test_it_refuses_bad_probe_urls_in_the_api():
    component = ComponentFactory()
    api = _api()
    for url in (METADATA, "file:///etc/passwd"):
        probe = api.post(
            "/api/operations/probes", {"component": component.pk, "url": url}, "application/json"
        )
        assert probe.status_code == 400 and "url" in probe.json()["errors"], url
        created = api.post(
            "/api/status/admin/components", {"name": "x", "health_check_url": url}, "application/json"
        )
        assert created.status_code == 400 and "health_check_url" in created.json()["errors"], url
    assert Component.objects.count() == 1 and not component.health_check_url


def test_it_refuses_bad_probe_urls_in_the_admin_forms():
    component = ComponentFactory()
    admin = _admin()
    form = {"component": component.pk, "url": METADATA, "method": "GET", "expected_status_codes": "[200]"}
    response = admin.post("/admin/healthchecks/probe/add/", form)
    assert response.status_code == 200 and b"link-local" in response.content
    response = admin.post(
        f"/admin/statuspage/component/{component.pk}/change/",
        {"name": component.name, "type": "service", "position": 0, "health_check_url": METADATA},
    )
    assert response.status_code == 200 and b"link-local" in response.content
    component.refresh_from_db()
    assert component.health_check_url == ""


# --- and again just before connecting ------------------------------------------------------


@pytest.fixture
def receiver():
    server = HttpReceiver()
    yield server
    server.stop()


def _send_to(url: str) -> Delivery:
    WebhookChannelFactory(url=url)  # a row saved before the rule, or edited in the database
    message_enqueue(kind="test", subject="Hello", context={}, severity="critical", dedup_key=url)
    deliveries_send_due()
    return Delivery.objects.get(recipient=url)


def test_it_does_not_post_to_loopback_at_send_time(receiver):
    for url in (receiver.url("/ok"), receiver.url("/ok").replace("127.0.0.1", "localhost")):
        delivery = _send_to(url)
        assert delivery.status == Delivery.Status.FAILED and "WEBHOOK_ALLOWED_NETWORKS" in delivery.last_error
    assert receiver.requests == []


def test_it_posts_to_an_allowed_network(receiver, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    assert _send_to(receiver.url("/ok")).status == Delivery.Status.SENT
    assert len(receiver.requests) == 1


class _Redirector:
    """Answers every request with a redirect to the cloud metadata service."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(302)
                self.send_header("Location", METADATA)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/health"


def test_it_does_not_follow_a_probe_redirect_to_the_metadata_service():
    redirector = _Redirector()
    try:
        outcome = execute(ProbeSpec(probe_id=1, url=redirector.url(), timeout=2), make_session(1))
    finally:
        redirector.server.shutdown()
        redirector.server.server_close()
    assert not outcome.ok and "redirect refused" in outcome.error and "169.254.169.254" in outcome.error


def test_it_does_not_probe_a_name_that_resolves_to_a_refused_address(settings):
    settings.PROBE_ALLOWED_NETWORKS = []
    assert outbound.check_destination("http://localhost:9/health", outbound.PROBE) is None  # loopback: fine
    assert outbound.check_destination("http://localhost:9/hook", outbound.WEBHOOK) is not None
