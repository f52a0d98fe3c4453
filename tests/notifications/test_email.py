import pytest

from notifications.models import Delivery, DeliveryAttempt, StaffNotification
from notifications.services import EmailRecipient, deliveries_send_due, message_enqueue
from tests.notifications.factories import ChannelFactory

pytestmark = pytest.mark.django_db


def mail_to(*recipients, **overrides):
    arguments = {
        "kind": "incident.update",
        "subject": "Degraded API",
        "template": "",
        "context": {"body": "We are investigating.", "url": "https://status.example/incidents/1"},
        "severity": "high",
        "dedup_key": "incident-update:1",
        "channels": [],
        "emails": recipients,
        **overrides,
    }
    return message_enqueue(**arguments)


def test_it_sends_html_and_text_with_one_click_unsubscribe_headers(smtp):
    context = {
        "unsubscribe_url": "https://status.example/unsubscribe/tok",
        "unsubscribe_one_click_url": "https://status.example/api/status/unsubscribe/tok",
    }
    mail_to(EmailRecipient("sub@example.com", context))
    deliveries_send_due()
    [mail] = smtp.messages
    assert mail["Subject"] == "Degraded API" and mail["To"] == "sub@example.com"
    assert mail["List-Unsubscribe"] == "<https://status.example/api/status/unsubscribe/tok>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "We are investigating." in text and "https://status.example/unsubscribe/tok" in text
    assert '<a href="https://status.example/unsubscribe/tok">Unsubscribe</a>' in html


def test_it_sends_no_unsubscribe_headers_to_staff_channels(smtp):
    ChannelFactory(recipients="oncall@example.com")
    mail_to(channels=None)
    deliveries_send_due()
    assert smtp.messages[0]["List-Unsubscribe"] is None


def test_it_marks_the_delivery_sent_and_records_the_attempt(smtp):
    mail_to("sub@example.com")
    deliveries_send_due()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.SENT and delivery.sent_at is not None
    attempt = delivery.attempt_log.get()
    assert attempt.outcome == DeliveryAttempt.Outcome.SENT and attempt.duration_ms >= 0


def test_it_uses_one_smtp_connection_per_batch(smtp, settings):
    settings.NOTIFICATIONS_BATCH_SIZE = 50
    mail_to(*(f"s{i}@example.com" for i in range(120)))
    deliveries_send_due()
    assert len(smtp.recipients()) == 120
    assert smtp.connections() == 3


def test_it_fails_an_invalid_address_at_once_without_contacting_smtp(smtp):
    mail_to("not an address")
    deliveries_send_due()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED and "invalid" in delivery.last_error
    assert smtp.messages == []


def test_it_fails_a_refused_recipient_permanently_and_tells_staff(smtp):
    mail_to("reject@example.com", "fine@example.com")
    deliveries_send_due()
    refused = Delivery.objects.get(recipient="reject@example.com")
    assert refused.status == Delivery.Status.FAILED and refused.last_status_code == 550
    assert Delivery.objects.get(recipient="fine@example.com").status == Delivery.Status.SENT
    notice = StaffNotification.objects.get(dedup_key__startswith="failed:")
    assert notice.title.startswith("E-mail to subscribers failed (incident.update,") and notice.count == 1
    assert "reject@example.com" in notice.body


def test_it_counts_subscriber_bounces_in_one_daily_notice_marked_unread_again(smtp, admin_user):
    from notifications.services import staff_notifications_mark_read, staff_notifications_unread_count

    mail_to("reject1@example.com")
    deliveries_send_due()
    staff_notifications_mark_read(user=admin_user, notifications=StaffNotification.objects.all())
    mail_to("reject2@example.com", "reject3@example.com", dedup_key="incident-update:2")
    deliveries_send_due()
    notice = StaffNotification.objects.get()
    assert notice.count == 3 and staff_notifications_unread_count(user=admin_user) == 1


def test_it_raises_one_notice_per_message_for_a_failing_staff_channel(smtp):
    channel = ChannelFactory(recipients="reject-a@example.com\nreject-b@example.com")
    mail_to(channels=None)
    deliveries_send_due()
    notice = StaffNotification.objects.get()
    assert notice.count == 2 and str(channel) in notice.title and "Degraded API" in notice.title


def test_it_retries_a_temporarily_refused_recipient(smtp):
    mail_to("later@example.com")
    deliveries_send_due()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.PENDING and delivery.attempts == 1
    assert delivery.last_status_code == 450 and delivery.next_attempt_at > delivery.created_at


def test_it_retries_when_the_smtp_server_is_down(settings, closed_port):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port
    mail_to("a@example.com", "b@example.com")
    deliveries_send_due()
    assert set(Delivery.objects.values_list("status", "attempts")) == {("pending", 1)}
    assert "unavailable" in DeliveryAttempt.objects.first().error
