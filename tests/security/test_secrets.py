"""No secrets in error pages, logs or stored error text: error pages are the site's own (never
a traceback, settings or the exception's text), log lines have tokens, passwords and URL
secrets taken out, and failed deliveries and probes record what failed without the secret.
(The same in a production process: test_production.py.)"""

import io
import logging

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from alerts.models import Alert
from config.models import AuditEntry
from healthchecks.models import Probe, ProbeResult
from healthchecks.probes.services import probes_run_due
from notifications.models import Delivery, DeliveryAttempt
from notifications.services import deliveries_send_due, message_enqueue
from tests.config.factories import role_user
from tests.healthchecks.factories import ProbeFactory
from tests.notifications.factories import SlackChannelFactory, WebhookChannelFactory
from tests.security.urls_errors import SECRET_TEXT

pytestmark = pytest.mark.django_db
SECRETS_IN_TEXT = ("SLACKPATHSECRET", "QUERYSECRET")
assert all(secret in SECRET_TEXT for secret in SECRETS_IN_TEXT)


@pytest.fixture
def failing_urls(settings):
    settings.ROOT_URLCONF = "tests.security.urls_errors"


@pytest.fixture
def log_output():
    """What the configured console handler (with its filter) writes, for this test."""
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler))
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def _is_our_page(response, code: int) -> bool:
    body = response.content.decode()
    return f'data-vigil-error="{code}"' in body and "Traceback" not in body and "SECRET_KEY" not in body


@pytest.mark.parametrize(
    ("path", "code"), [("/boom", 500), ("/forbidden", 403), ("/bad", 400), ("/no/such", 404)]
)
def test_it_shows_its_own_error_page_without_the_exception(failing_urls, path, code):
    response = Client(raise_request_exception=False).get(path)
    assert response.status_code == code and _is_our_page(response, code)
    assert not any(secret in response.content.decode() for secret in SECRETS_IN_TEXT)


def test_it_answers_api_errors_in_the_api_shape(failing_urls):
    client = Client(raise_request_exception=False)
    assert client.get("/api/boom").json() == {"detail": "Server error. It has been logged."}
    assert client.get("/api/no/such").json() == {"detail": "Not found."}
    assert client.get("/health/nothing").status_code == 404


def test_it_shows_its_own_page_for_a_bad_host_and_a_csrf_failure():
    assert _is_our_page(Client().get("/", HTTP_HOST="evil.example"), 400)
    refused = Client(enforce_csrf_checks=True).post("/admin/login/", {"username": "x", "password": "y"})
    assert (
        refused.status_code == 403 and _is_our_page(refused, 403) and b"form has expired" in refused.content
    )


def test_it_logs_errors_without_their_secrets(failing_urls, log_output):
    client = Client(raise_request_exception=False)
    client.get("/boom", HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    client.get(f"/api/status/manage/{'m' * 43}")
    logging.getLogger("vigil.test").warning("key is %s", django_settings.SECRET_KEY)
    output = log_output.getvalue()
    assert "Internal Server Error: /boom" in output and "RuntimeError" in output  # logged, with traceback
    assert "Bad Request: /api/status/manage/…" in output
    for secret in (
        *SECRETS_IN_TEXT,
        "m" * 43,
        "0123456789abcdef0123456789abcdef01234567",
        django_settings.SECRET_KEY,
    ):
        assert secret not in output


def _deliver(channel_factory, url: str) -> Delivery:
    channel_factory(url=url)
    message_enqueue(kind="test", subject="Disk full", context={}, severity="critical", dedup_key=url)
    deliveries_send_due()
    return Delivery.objects.get()


@pytest.mark.parametrize("factory", [SlackChannelFactory, WebhookChannelFactory])
def test_it_keeps_webhook_secrets_out_of_delivery_errors(closed_port, caplog, factory):
    url = f"http://127.0.0.1:{closed_port}/services/T0/B0/SLACKPATHSECRET?token=QUERYSECRET"
    delivery = _deliver(factory, url)
    attempt = DeliveryAttempt.objects.get()
    assert "connection" in attempt.error  # the error is still told
    stored = [attempt.error, delivery.last_error, delivery.recipient_display(), caplog.text]
    assert not any(secret in text for secret in SECRETS_IN_TEXT for text in stored)


def test_it_keeps_probe_credentials_and_tokens_out_of_results_and_alerts(closed_port):
    url = f"http://probe:PROBEPASSWORD@127.0.0.1:{closed_port}/health?key=PROBEKEY"
    ProbeFactory(component__health_check_url=url, failures_before_down=1)
    probes_run_due()
    texts = [*ProbeResult.objects.values_list("error", flat=True), Probe.objects.get().last_error]
    texts += [f"{a.title} {a.message}" for a in Alert.objects.all()]
    assert Alert.objects.exists() and all(texts)
    assert not any(secret in text for secret in ("PROBEPASSWORD", "PROBEKEY") for text in texts)


# --- what staff can read -------------------------------------------------------------------


def test_it_keeps_subscriber_tokens_and_channel_secrets_out_of_the_audit_log(world):
    client = Client()
    client.force_login(role_user("superuser"))
    subscriber = world["subscriber"]
    client.post(
        reverse("admin:subscribers_subscriber_change", args=[subscriber.pk]),
        {"components": []},
    )
    channel = SlackChannelFactory()
    client.post(
        reverse("admin:notifications_channel_change", args=[channel.pk]),
        {
            "name": channel.name,
            "kind": "slack",
            "url": "https://hooks.slack.com/services/T0/B0/NEWSLACKSECRET",
            "secret": "NEWSIGNINGSECRET",
            "min_severity": "low",
            "enabled": "on",
        },
    )
    entries = " ".join(
        str([e.before, e.after, e.changes]) for e in AuditEntry.objects.exclude(pk=world["audit"].pk)
    )
    assert "subscriber" in str(AuditEntry.objects.values_list("content_type__model", flat=True))
    assert (
        "NEWSLACKSECRET" not in entries and "NEWSIGNINGSECRET" not in entries and channel.url not in entries
    )
    assert subscriber.manage_token not in entries


def test_it_shows_viewers_no_channel_secret_or_subscriber_link(world):
    subscriber = world["subscriber"]
    channel = SlackChannelFactory(
        url="https://hooks.slack.com/services/T0/B0/SLACKPATHSECRET", secret="SIGNINGSECRET"
    )
    message_enqueue(
        kind="incident.update",
        subject="Outage",
        context={},
        severity="low",
        dedup_key="viewer-check",
        channels=[],
        emails=[(subscriber.email, subscriber.links())],
    )
    delivery = Delivery.objects.get(recipient=subscriber.email)
    client = Client()
    client.force_login(role_user("viewer"))
    pages = [
        reverse("admin:notifications_channel_change", args=[channel.pk]),
        reverse("admin:notifications_channel_changelist"),
        reverse("admin:notifications_delivery_change", args=[delivery.pk]),
        reverse("admin:notifications_delivery_changelist"),
    ]
    for page in pages:
        body = client.get(page).content.decode()
        for secret in ("SLACKPATHSECRET", "SIGNINGSECRET", subscriber.manage_token):
            assert secret not in body, (page, secret)


def test_it_gives_celery_s_log_handlers_the_same_filter():
    from celery import signals

    import config.celery  # noqa: F401  (connects the handler)

    logger = logging.getLogger("vigil.test.worker")
    logger.propagate = False
    buffer = io.StringIO()
    logger.addHandler(logging.StreamHandler(buffer))
    try:
        # What Celery sends once it has set up a worker's (or a task's) logger.
        signals.after_setup_task_logger.send(sender=None, logger=logger, loglevel=logging.INFO)
        logger.error("POST https://hooks.slack.com/services/T0/B0/SLACKPATHSECRET failed: Token %s", "a" * 40)
    finally:
        logger.handlers.clear()
    assert "failed" in buffer.getvalue() and "SLACKPATHSECRET" not in buffer.getvalue()
    assert "a" * 40 not in buffer.getvalue()
