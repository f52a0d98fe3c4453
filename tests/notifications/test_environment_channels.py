"""Every push, chat and incident-tool kind can come from the environment, secrets included; a
bad value stops the start naming the variable (and never repeats a key)."""

import pytest

from notifications.models import Channel
from notifications.services import NotificationError, channels_sync_from_settings
from tests.conftest import run_manage
from tests.notifications.incident_tool_servers import GENIE_KEY, ROUTING_KEY

pytestmark = pytest.mark.django_db
BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"


@pytest.fixture
def provider_env(settings):
    settings.NTFY_TOPIC, settings.NTFY_TOKEN = "ops", "tk_secret"
    settings.DISCORD_WEBHOOK_URL = "https://discord.com/api/webhooks/1/abc"
    settings.TEAMS_WEBHOOK_URL = "https://example.webhook.office.com/webhookb2/x"
    settings.TELEGRAM_BOT_TOKEN, settings.TELEGRAM_CHAT_ID = BOT_TOKEN, "-1001234567890"
    settings.MATTERMOST_WEBHOOK_URL = "https://chat.example.com/hooks/xyz"
    settings.GOTIFY_URL, settings.GOTIFY_TOKEN = "https://gotify.example.com", "AWJ3hGx.k1FsT2u"
    settings.PAGERDUTY_ROUTING_KEY = ROUTING_KEY
    settings.OPSGENIE_API_KEY = GENIE_KEY


def test_it_creates_one_channel_per_provider_variable_with_its_secret(provider_env):
    channels_sync_from_settings()
    by_kind = {c.kind: c for c in Channel.objects.all()}
    assert set(by_kind) == {
        "dashboard",
        "ntfy",
        "discord",
        "teams",
        "telegram",
        "mattermost",
        "gotify",
        "pagerduty",
        "opsgenie",
    }
    assert (by_kind["ntfy"].destination, by_kind["ntfy"].token) == ("ops", "tk_secret")
    assert (by_kind["telegram"].token, by_kind["telegram"].destination) == (BOT_TOKEN, "-1001234567890")
    assert by_kind["pagerduty"].token == ROUTING_KEY and by_kind["opsgenie"].token == GENIE_KEY
    assert by_kind["pagerduty"].recipient_list() == [by_kind["pagerduty"].recipient_list()[0]]


def test_it_syncs_the_provider_channels_once(provider_env):
    channels_sync_from_settings()
    assert all("already there" in line for line in channels_sync_from_settings())
    assert Channel.objects.count() == 9


def test_it_names_the_variable_of_a_url_the_channel_may_not_use(settings):
    settings.DISCORD_WEBHOOK_URL = "http://10.0.0.5/api/webhooks/1/abc"
    with pytest.raises(NotificationError, match="DISCORD_WEBHOOK_URL: .*10.0.0.5 is not a public address"):
        channels_sync_from_settings()
    assert not Channel.objects.filter(kind="discord").exists()


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"PAGERDUTY_ROUTING_KEY": "not-a-key"}, "PAGERDUTY_ROUTING_KEY must be the 32 letters and digits"),
        ({"OPSGENIE_API_KEY": "GenieKey 123"}, "OPSGENIE_API_KEY must be an Opsgenie API key"),
        ({"NTFY_TOPIC": "ops alerts"}, "NTFY_TOPIC must be an ntfy topic"),
        ({"TELEGRAM_BOT_TOKEN": BOT_TOKEN}, "TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID must be set together"),
        ({"DISCORD_WEBHOOK_URL": "discord.com/api/webhooks/1/x"}, "DISCORD_WEBHOOK_URL must be a URL"),
        ({"PAGERDUTY_EVENTS_URL": "events.pagerduty.com"}, "PAGERDUTY_EVENTS_URL must be a URL"),
    ],
)
def test_it_refuses_a_bad_value_at_start_up_naming_the_variable(variables, message):
    result = run_manage("check", env=variables)
    assert result.returncode != 0 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_it_never_repeats_a_bad_key_in_the_error():
    result = run_manage("check", env={"OPSGENIE_API_KEY": "secret-but-wrong"})
    assert "secret-but-wrong" not in result.stderr and "16 characters" in result.stderr
