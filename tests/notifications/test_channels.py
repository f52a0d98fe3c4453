import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from notifications.demo import seed_notifications
from notifications.models import Channel, Delivery, DeliveryAttempt, Message, StaffNotification
from notifications.services import (
    NotificationError,
    channels_sync_from_settings,
    deliveries_send_due,
    message_enqueue,
    notifications_purge,
)
from tests.notifications.factories import ChannelFactory, DashboardChannelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def env_channels(settings):
    settings.EMAIL_NOTIFICATIONS_ENABLED = True
    settings.EMAIL_RECIPIENTS = ["ops@example.com", "cto@example.com"]
    settings.SLACK_NOTIFICATIONS_ENABLED = True
    settings.SLACK_WEBHOOK_URL = "https://hooks.slack.com/services/T/B/X"
    settings.WEBHOOK_NOTIFICATIONS_ENABLED = True
    settings.WEBHOOK_URLS = ["https://a.example/hook", "http://b.example/hook"]
    settings.WEBHOOK_SECRET = "shared-secret"


def test_it_creates_the_channels_the_environment_asks_for(env_channels):
    out = io.StringIO()
    call_command("sync_channels", stdout=out)
    kinds = sorted(Channel.objects.values_list("kind", flat=True))
    assert kinds == ["dashboard", "email", "slack", "webhook", "webhook"]
    assert Channel.objects.get(kind="email").recipient_list() == ["ops@example.com", "cto@example.com"]
    assert set(Channel.objects.filter(kind="webhook").values_list("secret", flat=True)) == {"shared-secret"}
    assert out.getvalue().count("created") == 5


def test_it_syncs_idempotently_and_keeps_staff_edits(env_channels):
    channels_sync_from_settings()
    Channel.objects.filter(kind="email").update(recipients="changed@example.com", enabled=False)
    lines = channels_sync_from_settings()
    assert all("already there" in line for line in lines)
    assert Channel.objects.count() == 5
    assert Channel.objects.get(kind="email").recipients == "changed@example.com"


def test_it_creates_only_the_dashboard_channel_by_default():
    channels_sync_from_settings()
    assert list(Channel.objects.values_list("kind", flat=True)) == ["dashboard"]


def test_it_refuses_a_webhook_url_that_is_not_http(settings):
    settings.WEBHOOK_NOTIFICATIONS_ENABLED = True
    settings.WEBHOOK_URLS = ["ftp://files.example/hook"]
    with pytest.raises(NotificationError, match="http"):
        channels_sync_from_settings()


def test_it_validates_email_channel_addresses():
    with pytest.raises(ValidationError, match="not a valid address"):
        Channel(name="x", kind="email", recipients="ops@example.com, nope").full_clean()


def test_it_seeds_demo_channels_idempotently():
    first, second = seed_notifications(), seed_notifications()
    assert "created" in first and "created" not in second
    assert sorted(Channel.objects.values_list("kind", flat=True)) == ["dashboard", "email"]


def test_it_purges_old_attempts_and_finished_messages_but_keeps_pending(smtp):
    DashboardChannelFactory()
    ChannelFactory(recipients="later@example.com")  # 450: stays pending
    message_enqueue(kind="a", subject="old", severity="low", dedup_key="old")
    deliveries_send_due()
    Message.objects.update(created_at=timezone.now() - timedelta(days=30))
    DeliveryAttempt.objects.update(started_at=timezone.now() - timedelta(days=30))
    StaffNotification.objects.update(updated_at=timezone.now() - timedelta(days=30))
    assert notifications_purge(days=7)["messages"] == 0  # one delivery still pending
    Delivery.objects.filter(status="pending").update(status="failed")
    result = notifications_purge(days=7)
    assert result["messages"] == 1 and not Delivery.objects.exists()
    assert not DeliveryAttempt.objects.exists() and not StaffNotification.objects.exists()


def test_it_accepts_a_single_label_webhook_host():
    Channel(name="x", kind="webhook", url="http://receiver:8000/hook", secret="s").full_clean()


def test_it_syncs_the_environments_channels_from_the_beat_sweeper(env_channels):
    from notifications import tasks

    tasks._channels_synced = False
    assert tasks.send_due_deliveries().startswith("sweep: 0 sent")
    assert Channel.objects.count() == 5


@pytest.fixture
def twilio_env(settings):
    settings.SMS_NOTIFICATIONS_ENABLED = settings.VOICE_NOTIFICATIONS_ENABLED = True
    settings.SMS_RECIPIENTS = ["+14155550111", "+14155550112"]
    settings.VOICE_RECIPIENTS = ["+14155550111"]
    settings.TWILIO_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
    settings.TWILIO_AUTH_TOKEN = "f" * 32
    settings.TWILIO_FROM_NUMBER = "+14155550100"


def test_it_creates_sms_and_voice_channels_from_the_environment(twilio_env):
    channels_sync_from_settings()
    sms, voice = Channel.objects.get(env_key="env:sms"), Channel.objects.get(env_key="env:voice")
    assert sms.recipient_list() == ["+14155550111", "+14155550112"] and voice.recipient_list() == [
        "+14155550111"
    ]
    assert sms.from_number == voice.from_number == "+14155550100" and voice.min_severity == "high"


def test_it_refuses_an_environment_number_that_is_not_e164(twilio_env, settings):
    settings.SMS_RECIPIENTS = ["(415) 555-0111"]
    with pytest.raises(NotificationError, match="E.164"):
        channels_sync_from_settings()
