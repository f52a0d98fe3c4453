import time

import pytest
from django.core.exceptions import ValidationError

from notifications.models import Channel, Delivery, DeliveryAttempt
from notifications.services import deliveries_send_due
from notifications.telephony import sms_length, sms_text
from tests.notifications.provider_servers import HOSTILE_TITLE, page, send_twice
from tests.notifications.servers import BadPeer, endless_answer, trickled_headers
from tests.notifications.twilio_fakes import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    ON_CALL,
    twilio_channel,
    twilio_error,
)

pytestmark = pytest.mark.django_db
LINK = "https://vigil.example/admin/alerts/alert/7/change/"


def test_it_sends_an_sms_through_twilios_messages_api(twilio):
    twilio_channel()
    page()
    deliveries_send_due()
    [request] = twilio.requests
    assert request["path"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request["form"] == {
        "To": ON_CALL,
        "From": FROM_NUMBER,
        "Body": f"[CRITICAL] Disk almost full on db-1 {LINK}",
    }
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.SENT and delivery.recipient == ON_CALL
    assert delivery.attempt_log.get().status_code == 201


def test_it_signs_in_with_the_account_sid_and_auth_token(twilio):
    import base64

    twilio_channel()
    page()
    deliveries_send_due()
    credentials = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert twilio.requests[0]["headers"]["Authorization"] == f"Basic {credentials}"


def test_it_sends_one_sms_per_number(twilio):
    twilio_channel(recipients=f"{ON_CALL}\n+447700900123, {ON_CALL}")
    page()
    deliveries_send_due()
    assert sorted(r["form"]["To"] for r in twilio.requests) == ["+14155550111", "+447700900123"]
    assert Delivery.objects.filter(status=Delivery.Status.SENT).count() == 2


def test_it_waits_as_twilio_says_on_429_then_sends_once(twilio):
    twilio.then(twilio_error(429, 20429, "Too Many Requests", **{"Retry-After": "40"}))
    twilio_channel()
    page()
    deliveries_send_due()
    delivery = Delivery.objects.get()
    attempt = delivery.attempt_log.get()
    assert attempt.outcome == DeliveryAttempt.Outcome.RETRY
    assert attempt.error == "HTTP 429: Too Many Requests (Twilio error 20429)"
    assert 39 <= (delivery.next_attempt_at - attempt.started_at).total_seconds() <= 42
    send_twice()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 2 and len(twilio.requests) == 2


def test_it_retries_a_5xx(twilio):
    twilio.then(twilio_error(503, 20503, "Service Unavailable"))
    twilio_channel()
    page()
    deliveries_send_due()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.PENDING and delivery.last_status_code == 503


def test_it_fails_a_400_at_once_with_twilios_message(twilio):
    twilio.then(twilio_error(400, 21211, "The 'To' number +14155550111 is not a valid phone number."))
    twilio_channel()
    page()
    deliveries_send_due()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED and delivery.attempts == 1
    assert delivery.last_error == (
        "HTTP 400: The 'To' number +14155550111 is not a valid phone number. (Twilio error 21211)"
    )


def test_it_retries_when_twilio_cannot_be_reached_and_keeps_the_sid_out(twilio, settings):
    settings.TWILIO_API_URL = "http://127.0.0.1:1"
    twilio_channel()
    page()
    deliveries_send_due()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.PENDING and "connection error" in delivery.last_error
    assert ACCOUNT_SID not in delivery.last_error and AUTH_TOKEN not in delivery.last_error


def test_it_sends_a_hostile_title_as_plain_text(twilio):
    twilio_channel()
    page(subject=HOSTILE_TITLE + "\r\nSecond line")
    deliveries_send_due()
    body = twilio.requests[0]["form"]["Body"]
    # Nothing to interpret in an SMS: the title arrives as typed (one line), in one segment.
    assert body.startswith("[CRITICAL] " + HOSTILE_TITLE[:40])
    assert "\n" not in body and "\r" not in body and sms_length(body) <= 160


def test_it_fits_a_long_title_into_one_gsm_segment_with_the_link():
    text = sms_text("Disk almost full on db-1 " * 10, "high", LINK)
    assert len(text) <= 160 and text.startswith("[HIGH] Disk almost full") and text.endswith(f"... {LINK}")


def test_it_fits_a_title_outside_gsm7_into_one_ucs2_segment():
    text = sms_text("Диск почти заполнен на db-1 " * 5, "low", "https://v.example/a/1")
    assert len(text.encode("utf-16-le")) // 2 <= 70 and text.endswith("… https://v.example/a/1")


def test_it_drops_the_link_rather_than_the_title_when_both_cannot_fit():
    text = sms_text("Ошибка " * 20, "critical", "https://vigil.example/admin/alerts/alert/123456/change/")
    assert "https://" not in text and text.startswith("[CRITICAL] Ошибка") and sms_length(text) <= 70


def test_it_counts_gsm7_extension_characters_twice():
    assert sms_length("a{b}") == 6 and sms_length("€") == 2


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"recipients": "0044 7700 900123"}, "recipients"),
        ({"recipients": ""}, "recipients"),
        ({"account_sid": "XX123"}, "account_sid"),
        ({"token": "short"}, "token"),
        ({"from_number": "4155550100"}, "from_number"),
    ],
)
def test_it_refuses_settings_twilio_would_not_take(fields, problem):
    arguments = {
        "recipients": ON_CALL,
        "account_sid": ACCOUNT_SID,
        "token": AUTH_TOKEN,
        "from_number": FROM_NUMBER,
        **fields,
    }
    channel = Channel(name="sms", kind=Channel.Kind.SMS, **arguments)
    with pytest.raises(ValidationError) as error:
        channel.full_clean()
    assert problem in error.value.message_dict


@pytest.mark.parametrize("answer", [trickled_headers(0.1), endless_answer(500)])
def test_it_spends_one_bounded_attempt_on_a_twilio_that_trickles_or_never_ends(settings, answer):
    settings.NOTIFICATIONS_HTTP_TIMEOUT, settings.NOTIFICATIONS_SEND_DEADLINE = 0.5, 1.0
    peer = BadPeer(answer)
    settings.TWILIO_API_URL = peer.url("")
    try:
        twilio_channel()
        page()
        started = time.monotonic()
        deliveries_send_due()
        assert time.monotonic() - started < 3  # the deadline (1 s) and a loaded machine's slack
    finally:
        peer.stop()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.PENDING and delivery.attempts == 1


def test_it_refuses_a_twilio_api_url_the_outbound_rule_does_not_allow(twilio, settings):
    twilio_channel()
    settings.WEBHOOK_ALLOWED_NETWORKS = []  # loopback is private: refused at send
    page()
    deliveries_send_due()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED and not twilio.requests


def test_it_fails_a_channel_without_credentials_instead_of_raising(twilio):
    channel = twilio_channel()
    Channel.objects.filter(pk=channel.pk).update(account_sid="", token="")
    page()
    deliveries_send_due()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED and "account SID" in delivery.last_error
