import pytest
from django.urls import reverse

from notifications.models import Channel, Delivery, Message, StaffNotification
from notifications.services import deliveries_send_due, message_enqueue
from tests.notifications.factories import ChannelFactory, DashboardChannelFactory

pytestmark = pytest.mark.django_db

CHANGELISTS = ["channel", "message", "delivery", "staffnotification"]


@pytest.fixture
def sent_and_failed(smtp):
    ChannelFactory(recipients="ok@example.com\nreject@example.com")
    message = message_enqueue(kind="alert.firing", subject="Latency up", severity="high", dedup_key="a:9")
    deliveries_send_due()
    return message


@pytest.mark.parametrize("model", CHANGELISTS)
def test_it_opens_every_changelist_and_search(admin_client, sent_and_failed, model):
    url = reverse(f"admin:notifications_{model}_changelist")
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url, {"q": "example"}).status_code == 200


def test_it_filters_failed_deliveries_of_a_message(admin_client, sent_and_failed):
    url = reverse("admin:notifications_delivery_changelist")
    response = admin_client.get(url, {"status__exact": "failed", "message__id__exact": sent_and_failed.pk})
    shown = list(response.context["cl"].result_list)
    assert [d.recipient for d in shown] == ["reject@example.com"]


def test_it_shows_a_delivery_with_its_attempts(admin_client, sent_and_failed):
    delivery = Delivery.objects.get(recipient="reject@example.com")
    response = admin_client.get(reverse("admin:notifications_delivery_change", args=[delivery.pk]))
    assert response.status_code == 200
    assert b"No such user" in response.content


def test_it_shows_message_progress(admin_client, sent_and_failed):
    response = admin_client.get(reverse("admin:notifications_message_changelist"))
    assert b"1 / 0 / 1" in response.content


def test_it_retries_failed_deliveries_now(
    admin_client, sent_and_failed, smtp, django_capture_on_commit_callbacks
):
    failed = Delivery.objects.get(recipient="reject@example.com")
    url = reverse("admin:notifications_delivery_changelist")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        admin_client.post(
            url, {"action": "retry_now", "_selected_action": [d.pk for d in Delivery.objects.all()]}
        )
    failed.refresh_from_db()
    assert failed.status == Delivery.Status.PENDING and failed.attempt_limit == failed.attempts + 8
    assert Delivery.objects.filter(status="sent").count() == 1  # a sent row is never re-sent
    assert len(callbacks) == 1


def test_it_sends_a_test_notification_to_a_disabled_channel(admin_client, smtp):
    channel = ChannelFactory(recipients="check@example.com", enabled=False, min_severity="critical")
    url = reverse("admin:notifications_channel_changelist")
    admin_client.post(url, {"action": "send_test_notification", "_selected_action": [channel.pk]})
    deliveries_send_due()
    assert smtp.recipients() == ["check@example.com"]
    assert "works" in smtp.messages[0].get_body(("plain",)).get_content()


def test_it_shows_the_unread_count_and_marks_read(admin_client, admin_user):
    DashboardChannelFactory()
    message_enqueue(kind="alert.firing", subject="Error rate 9 %", severity="high", dedup_key="a:10")
    deliveries_send_due()
    assert b"(1 unread)" in admin_client.get(reverse("admin:index")).content
    url = reverse("admin:notifications_staffnotification_changelist")
    admin_client.post(url, {"action": "mark_read", "_selected_action": [StaffNotification.objects.get().pk]})
    assert b"unread)" not in admin_client.get(reverse("admin:index")).content


def test_it_keeps_read_marks_per_user(admin_client, django_user_model):
    DashboardChannelFactory()
    message_enqueue(kind="alert.firing", subject="Error rate 9 %", severity="high", dedup_key="a:11")
    deliveries_send_due()
    notification = StaffNotification.objects.get()
    admin_client.get(reverse("admin:notifications_staffnotification_change", args=[notification.pk]))
    other = django_user_model.objects.create_superuser("other", "o@example.com", "pw-other-123")
    assert notification.reads.count() == 1
    admin_client.force_login(other)
    assert b"(1 unread)" in admin_client.get(reverse("admin:index")).content


def test_it_rejects_a_webhook_channel_with_a_non_http_url(admin_client):
    response = admin_client.post(
        reverse("admin:notifications_channel_add"),
        {
            "name": "bad",
            "kind": "webhook",
            "enabled": "on",
            "min_severity": "low",
            "url": "file:///etc/passwd",
            "secret": "x",
        },
    )
    assert response.status_code == 200 and b"http:// or https://" in response.content
    assert not Channel.objects.exists()


def test_it_has_no_add_page_for_messages(admin_client):
    assert admin_client.get(reverse("admin:notifications_message_add")).status_code == 403
    assert Message.objects.count() == 0


def test_it_lets_any_staff_member_read_the_inbox(client, staff_user):
    DashboardChannelFactory()
    message_enqueue(kind="alert.firing", subject="Replica lag", severity="medium", dedup_key="a:12")
    deliveries_send_due()
    client.force_login(staff_user)
    response = client.get(reverse("admin:notifications_staffnotification_changelist"), {"unread": "1"})
    assert response.status_code == 200 and b"Replica lag" in response.content


def test_it_links_a_failure_notice_to_the_failed_deliveries(admin_client, smtp):
    ChannelFactory(recipients="reject@example.com")
    message_enqueue(
        kind="incident.update",
        subject="Outage",
        severity="high",
        dedup_key="i:1",
        emails=["reject-s@example.com"],
    )
    deliveries_send_due()
    for notice in StaffNotification.objects.all():
        response = admin_client.get(notice.link)
        assert response.status_code == 200, notice.link
        assert [d.status for d in response.context["cl"].result_list] == ["failed"]
