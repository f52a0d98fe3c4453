"""A contact method is verified by a 6-digit code sent to it through the outbox."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Delivery
from oncall.models import ContactMethod
from oncall.people import (
    ContactMethodError,
    contact_method_check_code,
    contact_method_save,
    contact_method_send_code,
)
from tests.oncall.factories import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def method():
    return contact_method_save(
        method=ContactMethod(user=person("alice"), kind="email", address="alice@example.com")
    )


def sent_code() -> str:
    delivery = Delivery.objects.filter(message__kind="oncall.verify").latest("pk")
    return re.search(r"\b(\d{6})\b", delivery.message.context["body"]).group(1)


def test_it_sends_a_code_through_the_outbox_and_keeps_only_its_digest(method):
    method = contact_method_send_code(method=method)
    delivery = Delivery.objects.get(message__kind="oncall.verify")
    assert (delivery.kind, delivery.recipient) == ("email", "alice@example.com")
    assert sent_code() not in method.code_digest and len(method.code_digest) == 64


def test_the_right_code_verifies_the_method(method):
    contact_method_send_code(method=method)
    assert contact_method_check_code(method=method, code=sent_code()).verified_at is not None


def test_a_wrong_code_is_refused_and_counted(method):
    contact_method_send_code(method=method)
    with pytest.raises(ContactMethodError, match="4 tries left"):
        contact_method_check_code(method=method, code="000000" if sent_code() != "000000" else "111111")
    method.refresh_from_db()
    assert method.code_attempts == 1 and method.verified_at is None


def test_an_expired_code_is_refused(method):
    contact_method_send_code(method=method)
    later = timezone.now() + timedelta(minutes=10)
    with pytest.raises(ContactMethodError, match="expired"):
        contact_method_check_code(method=method, code=sent_code(), now=later)


def test_five_wrong_codes_use_the_code_up(method):
    contact_method_send_code(method=method)
    code = sent_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(ContactMethodError):
            contact_method_check_code(method=method, code=wrong)
    with pytest.raises(ContactMethodError, match="Too many") as refused:
        contact_method_check_code(method=method, code=code)
    assert refused.value.status == 429


def test_a_new_code_waits_a_minute(method):
    contact_method_send_code(method=method)
    with pytest.raises(ContactMethodError, match="ask again") as refused:
        contact_method_send_code(method=method)
    assert refused.value.status == 429
    contact_method_send_code(method=method, now=timezone.now() + timedelta(seconds=61))


def test_a_push_code_goes_to_the_topic_on_the_ntfy_server(settings):
    settings.NTFY_URL = "https://ntfy.example"
    method = contact_method_save(method=ContactMethod(user=person("bob"), kind="push", address="bob-phone"))
    contact_method_send_code(method=method)
    delivery = Delivery.objects.get(message__kind="oncall.verify")
    assert (delivery.kind, delivery.recipient) == ("ntfy", "https://ntfy.example/bob-phone")


@pytest.mark.parametrize(
    ("kind", "address"), [("sms", "+491701234567"), ("voice", "+491701234567"), ("slack", "U024BE7LH")]
)
def test_a_kind_without_a_sender_cannot_be_verified(kind, address):
    method = contact_method_save(method=ContactMethod(user=person("carol"), kind=kind, address=address))
    with pytest.raises(ContactMethodError, match="cannot send") as refused:
        contact_method_send_code(method=method)
    assert refused.value.status == 409 and not Delivery.objects.exists()


def test_changing_the_address_needs_a_new_verification(method):
    contact_method_send_code(method=method)
    contact_method_check_code(method=method, code=sent_code())
    method.refresh_from_db()
    method.address = "alice@elsewhere.example"
    assert contact_method_save(method=method).verified_at is None


@pytest.mark.parametrize(
    ("kind", "address"),
    [("email", "not-an-address"), ("sms", "01701234567"), ("slack", "alice"), ("push", "a b")],
)
def test_it_refuses_an_address_that_does_not_fit_the_kind(kind, address):
    with pytest.raises(ContactMethodError) as refused:
        contact_method_save(method=ContactMethod(user=person("dave"), kind=kind, address=address))
    assert "address" in refused.value.errors


def test_a_phone_code_goes_out_through_the_twilio_channel_to_the_persons_number(twilio):
    from notifications.services import deliveries_send_due
    from tests.notifications.twilio_fakes import twilio_channel

    twilio_channel(kind="sms", enabled=False, name="off")
    channel = twilio_channel(kind="sms", name="Twilio SMS")
    phone = ContactMethod(user=person("dave"), kind="sms", address="+491701234567")
    method = contact_method_save(method=phone)
    contact_method_send_code(method=method)
    delivery = Delivery.objects.get(message__kind="oncall.verify")
    assert (delivery.kind, delivery.recipient, delivery.channel_id) == ("sms", "+491701234567", channel.pk)
    deliveries_send_due()
    [request] = twilio.requests
    assert request["form"]["To"] == "+491701234567" and sent_code() in request["form"]["Body"]
    contact_method_check_code(method=method, code=sent_code())
    method.refresh_from_db()
    assert method.verified_at is not None
