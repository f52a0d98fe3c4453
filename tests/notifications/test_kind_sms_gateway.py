import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from config.models import AuditEntry
from notifications.models import Channel, Delivery, DeliveryAttempt
from notifications.services import deliveries_send_due
from tests.config.factories import role_user
from tests.notifications.factories import ChannelFactory
from tests.notifications.provider_servers import HOSTILE_TITLE, Answer, ProviderServer, page, send_twice

pytestmark = pytest.mark.django_db
ON_CALL = "+14155550111"
LINK = "https://vigil.example/admin/alerts/alert/7/change/"


@pytest.fixture
def gateway():
    server = ProviderServer(Answer.json(200, {"status": "accepted"}))
    yield server
    server.stop()


def gateway_channel(server, **fields):
    arguments = {
        "kind": Channel.Kind.SMS_GATEWAY,
        "recipients": ON_CALL,
        "url": f"{server.url}/api/sms?key=k3y",
        "body_template": '{"to": "$to", "message": "$text", "level": "$severity", "open": "$link"}',
        **fields,
    }
    channel = ChannelFactory(**arguments)
    channel.full_clean()
    return channel


def test_it_posts_the_template_as_json_once_per_number(gateway):
    gateway_channel(gateway, recipients=f"{ON_CALL}, +447700900123", request_headers="X-Api-Key: s3cret")
    page()
    deliveries_send_due()
    assert len(gateway.requests) == 2
    request = next(r for r in gateway.requests if r["json"]["to"] == ON_CALL)
    assert request["method"] == "POST" and request["path"] == "/api/sms?key=k3y"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["X-Api-Key"] == "s3cret"
    assert request["json"] == {
        "to": ON_CALL,
        "message": f"[CRITICAL] Disk almost full on db-1 {LINK}",
        "level": "critical",
        "open": LINK,
    }
    assert Delivery.objects.filter(status=Delivery.Status.SENT).count() == 2


def test_it_keeps_a_json_body_valid_whatever_the_title_holds(gateway):
    gateway_channel(gateway)
    page(subject=HOSTILE_TITLE + '", "to": "+19005550100')
    deliveries_send_due()
    sent = json.loads(gateway.requests[0]["body"])  # valid JSON, with only the template's keys
    assert set(sent) == {"to", "message", "level", "open"} and sent["to"] == ON_CALL
    assert sent["message"].startswith("[CRITICAL] " + HOSTILE_TITLE[:30])


def test_it_form_encodes_a_form_template(gateway):
    gateway_channel(gateway, content_type="form", body_template="to=$to&msg=$text", http_method="PUT")
    page(subject="Disk & memory=full on db-1")
    deliveries_send_due()
    request = gateway.requests[0]
    assert request["method"] == "PUT"
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert request["form"] == {"to": ON_CALL, "msg": f"[CRITICAL] Disk & memory=full on db-1 {LINK}"}


def test_it_sends_a_get_with_the_template_as_query_string(gateway):
    gateway_channel(gateway, http_method="GET", content_type="form", body_template="to=$to&text=$text")
    page(subject="Disk & more")
    deliveries_send_due()
    request = gateway.requests[0]
    query = parse_qs(urlsplit(request["path"]).query)
    assert request["method"] == "GET" and query["key"] == ["k3y"] and query["to"] == [ON_CALL]
    assert query["text"] == [f"[CRITICAL] Disk & more {LINK}"]


def test_it_waits_as_told_on_429_then_delivers_once(gateway):
    gateway.then(Answer.json(429, {"error": "slow down"}, **{"Retry-After": "30"}))
    gateway_channel(gateway)
    page()
    deliveries_send_due()
    delivery = Delivery.objects.get()
    attempt = delivery.attempt_log.get()
    assert attempt.outcome == DeliveryAttempt.Outcome.RETRY and attempt.error == "HTTP 429: slow down"
    assert 29 <= (delivery.next_attempt_at - attempt.started_at).total_seconds() <= 32
    send_twice()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and len(gateway.requests) == 2


def test_it_retries_a_5xx_and_fails_another_4xx_at_once_with_the_reason(gateway):
    gateway.then(Answer(502, b"bad gateway"), Answer.json(422, {"message": "unknown number"}))
    gateway_channel(gateway)
    page()
    deliveries_send_due()
    assert Delivery.objects.get().status == Delivery.Status.PENDING
    send_twice()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED and delivery.last_error == "HTTP 422: unknown number"


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"body_template": '{"to": "$number"}'}, "body_template"),
        ({"body_template": "cost: 5$"}, "body_template"),
        ({"body_template": '{"to": $to}'}, "body_template"),
        ({"request_headers": "X-Api-Key s3cret"}, "request_headers"),
        ({"recipients": "555-0100"}, "recipients"),
        ({"url": "ftp://gateway.example/sms"}, "url"),
    ],
)
def test_it_refuses_a_template_header_number_or_url_it_cannot_use(fields, problem):
    arguments = {"recipients": ON_CALL, "url": "https://gateway.example/sms", **fields}
    channel = Channel(name="gw", kind=Channel.Kind.SMS_GATEWAY, **arguments)
    with pytest.raises(ValidationError) as error:
        channel.full_clean()
    assert problem in error.value.message_dict


def test_it_keeps_the_gateway_headers_out_of_the_audit_log_and_from_viewers():
    client = Client()
    client.force_login(role_user("superuser"))
    form = {
        "name": "gateway",
        "kind": "sms_gateway",
        "url": "https://gateway.example/sms",
        "recipients": ON_CALL,
        "request_headers": "X-Api-Key: gw-s3cret-key",
        "http_method": "POST",
        "content_type": "json",
        "min_severity": "high",
        "enabled": "on",
    }
    response = client.post(reverse("admin:notifications_channel_add"), form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    channel = Channel.objects.get()
    entries = " ".join(str([e.before, e.after, e.changes]) for e in AuditEntry.objects.all())
    assert "gateway" in entries and "gw-s3cret-key" not in entries
    client.force_login(role_user("viewer"))
    body = client.get(reverse("admin:notifications_channel_change", args=[channel.pk])).content.decode()
    assert ON_CALL in body and "gw-s3cret-key" not in body
